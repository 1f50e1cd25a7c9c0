"""The local rehearsal behind `make demo`: the real templates and handlers, moto as the cloud, and a small,
separately tested layer playing the parts of AWS that moto does not (see docs/demo.md)."""
