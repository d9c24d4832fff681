"""The geodata pipeline: fetch public sources, build the zone layers, write them with a manifest.

Data flows one way: ``sources.toml`` -> :mod:`geodata.fetch` -> :mod:`geodata.build` (using the pure
steps in :mod:`geodata.transforms`) -> a data folder that the service reads. Nothing here imports ``app``.
"""
