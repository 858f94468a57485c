from __future__ import annotations

from doctor.cli import doctor_main

raise SystemExit(doctor_main())
