"""`python -m keras_dde ...` runs the `keras-dde` command line."""

import sys

from keras_dde.cli import main

if __name__ == "__main__":
    sys.exit(main())
