"""ivr — an offline voice IVR simulator for rehearsing a call to the Госуслуги support hotline.

The flow content comes from a public how-to document and is *not* the real hotline: numbers and
hours must be checked on the official site. See README.md.
"""

__version__ = "0.1.0"
