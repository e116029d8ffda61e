from pydokku.cli import main

raise SystemExit(main())
