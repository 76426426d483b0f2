"""``python -m envdoctor``."""

from envdoctor.cli import main

if __name__ == "__main__":
    main()
