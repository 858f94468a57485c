from __future__ import annotations

from doctor.process import doctor

doctor()
