"""Pipeline errors. Each message names the file or feature and says what to do."""


class GeodataError(Exception):
    """Base class of every pipeline error."""


class SourceUnavailable(GeodataError):
    """A source file is missing from the mirror or could not be downloaded."""


class ChecksumMismatch(GeodataError):
    """A source file's bytes are not the ones the manifest pins."""


class LayerDefinitionError(GeodataError):
    """A file in ``layers/`` is malformed or inconsistent with the sources."""


class BuildCheckFailed(GeodataError):
    """A built layer failed a quality check; the message names the feature."""
