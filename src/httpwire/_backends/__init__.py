"""Network backends: one per runtime, behind the interfaces of ``base.py``."""
