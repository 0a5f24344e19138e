"""Office Open XML packages (DOCX, XLSX): ZIP archives of XML parts and the media they carry.
What their readers hold in memory follows the XML, not the file, so the segment's budget is
asked for the XML's size (from the archive's directory: nothing is inflated to learn it)."""

from __future__ import annotations

import zipfile

# The parts a package's reader parses or follows; every other part is a blob it only carries.
_XML_SUFFIXES = (".xml", ".rels")


def is_xml_part(name: str) -> bool:
    return name.lower().endswith(_XML_SUFFIXES)  # part names ignore case (OPC)


def xml_megabytes(package: zipfile.ZipFile) -> float:
    """The size of the package's XML parts, inflated, as its directory states it."""
    return sum(i.file_size for i in package.infolist() if is_xml_part(i.filename)) / 2**20
