"""The DICOM side of the sandbox: listener, association hook, DIMSE handlers, index, files."""
