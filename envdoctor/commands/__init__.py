"""Extra CLI commands. Each module defines ``register(app)``; keep top levels light."""
