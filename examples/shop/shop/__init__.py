"""A shop of two apps that talk: ``orders`` and ``inventory``."""
