import sys

from workers.app.cli import main

sys.exit(main())
