"""Small real documents of each supported format, built with the formats' own tools."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import functools
import io
import mailbox
import random
import re
import struct
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import docx
import pymupdf
from PIL import Image

_CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>"""

_OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="id">docproc-test</dc:identifier><dc:title>Test</dc:title>
    <dc:language>en</dc:language>
  </metadata>
  <manifest>{items}</manifest>
  <spine>{refs}</spine>
</package>"""


def epub(path: Path, chapters: list[str]) -> Path:
    """A minimal valid EPUB 3 with one XHTML file per chapter."""
    items = "".join(
        f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>'
        for i in range(len(chapters))
    )
    refs = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", _CONTAINER)
        archive.writestr("OEBPS/content.opf", _OPF.format(items=items, refs=refs))
        for i, text in enumerate(chapters):
            archive.writestr(
                f"OEBPS/c{i}.xhtml",
                '<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
                f"<head><title>c{i}</title></head><body><p>{text}</p></body></html>",
            )
    return path


def docx_file(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    document.save(str(path))
    return path


_WORD_NAMESPACES = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
)
_WORD_PARTS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_WORD_TYPES = "application/vnd.openxmlformats-officedocument.wordprocessingml."


@dataclass(frozen=True)
class ImportedPart:
    """A part a DOCX imports whole (w:altChunk), or embeds (an OLE object: ``relationship``
    "package" or "oleObject"): ``name`` in word/, declared as ``content_type``, related from
    ``owner`` (document, header1, footnotes...) as ``rid``."""

    name: str
    content_type: str
    data: bytes
    rid: str = "rIdImport1"
    owner: str = "document"
    relationship: str = "aFChunk"


def embedded_object(name: str, data: bytes, rid: str) -> ImportedPart:
    """An OLE object a DOCX embeds: ``data`` (a compound file) as ``word/name``, related from
    the document as ``rid``, as Word stores one (see ole_object_run)."""
    return ImportedPart(
        name,
        "application/vnd.openxmlformats-officedocument.oleObject",
        data,
        rid,
        relationship="oleObject",
    )


def ole_object_run(rid: str, program: str, icon: bool = False) -> str:
    """A run of a DOCX's XML showing the object related as ``rid`` as Word writes one: its
    picture, then the object (``program``'s id), shown as its content or as an icon."""
    aspect = "Icon" if icon else "Content"
    return (
        '<w:r><w:object><v:shape id="_x0000_i1025" type="#_x0000_t75"><v:imagedata r:id="rIdP" '
        f'o:title=""/></v:shape><o:OLEObject Type="Embed" ProgID="{program}" '
        f'ShapeID="_x0000_i1025" DrawAspect="{aspect}" ObjectID="_1" r:id="{rid}"/>'
        "</w:object></w:r>"
    )


def chart_part(title: str, categories: Sequence[str], series: dict[str, Sequence[float]]) -> bytes:
    """A chart's part (DrawingML's ``c:chartSpace``, as Office writes one, its values cached),
    as python-pptx writes it: a clustered column chart of ``series`` over ``categories``."""
    import pptx
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE

    data = CategoryChartData()
    data.categories = list(categories)
    for name, values in series.items():
        data.add_series(name, list(values))
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    chart = slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, 0, 0, 1, 1, data).chart
    if title:
        chart.has_title = True
        chart.chart_title.text_frame.text = title
    blob: bytes = chart.part.blob
    return blob


def chart_run(rid: str) -> str:
    """A run showing the chart the document relates as ``rid``, as Word writes one: a drawing
    inline, its graphic's data a ``c:chart``."""
    return (
        '<w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/'
        'wordprocessingDrawing"><wp:extent cx="5486400" cy="3200400"/><wp:docPr id="1" '
        'name="Chart 1"/><a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/'
        'main"><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart">'
        '<c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
        f'r:id="{rid}"/></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>'
    )


def packaged_object(name: str, data: bytes) -> bytes:
    """An OLE object wrapping the file ``name`` as Windows' Packager does (how Office embeds a
    PDF or any file shown as an icon): a compound file whose ``\x01Ole10Native`` stream holds
    its size, a type, the file's name, its source path, 8 bytes, a temporary path, then the
    file's size and bytes."""
    from docproc.extract.compound import compound_file

    native = packager_data(name, data)
    return compound_file(
        {"\x01Ole10Native": struct.pack("<I", len(native)) + native, "\x01CompObj": bytes(76)}
    )


def packager_data(name: str, data: bytes) -> bytes:
    """Windows' Packager's data of the file ``name``: a type, the file's name, its source path,
    8 bytes, a temporary path, then the file's size and bytes (an OLE 1.0 object's native
    data; its OLE 2 stream puts the size of it all first)."""
    source = f"C:\\Exhibits\\{name}".encode()
    return (
        struct.pack("<H", 2)
        + name.encode()
        + b"\0"
        + source
        + b"\0"
        + struct.pack("<HHI", 0, 3, len(source) + 1)
        + source
        + b"\0"
        + struct.pack("<I", len(data))
        + data
    )


def rtf_object(class_name: str, native: bytes, linked: bool = False) -> str:
    """An object as Word writes one into an RTF (``{\\object ...}``): its class, its size, its
    data (an OLE 1.0 object, [MS-OLEDS] 2.2.4: a header, the class's native data, then a
    presentation, here none) in hexadecimal in lines of 128 digits, and its picture (a result
    that shows nothing)."""

    def counted(text: str) -> bytes:
        return struct.pack("<I", len(text) + 1) + text.encode() + b"\0"

    ole1 = struct.pack("<II", 0x0501, 1 if linked else 2) + counted(class_name)
    ole1 += counted("") + counted("") + struct.pack("<I", len(native)) + native
    ole1 += struct.pack("<II", 0x0501, 0)  # no presentation
    digits = ole1.hex()
    lines = "\n".join(digits[at : at + 128] for at in range(0, len(digits), 128))
    return (
        f"{{\\object\\objemb{{\\*\\objclass {class_name}}}\\objw2000\\objh1000"
        f"{{\\*\\objdata\n{lines}\n}}{{\\result{{\\pict\\wmetafile8 0100}}}}}}"
    )


def word_package(
    body: str,
    footnotes: str = "",
    endnotes: str = "",
    comments: str = "",
    headers: Sequence[str] = (),
    footers: Sequence[str] = (),
    imported: Sequence[ImportedPart] = (),
) -> bytes:
    """A DOCX written part by part, as Word writes them: ``body`` is the XML inside
    ``w:body`` (prefixes w, r, mc, wps and v declared), the others the XML inside each part's
    root (``w:footnotes``, ``w:endnotes``, ``w:comments``, ``w:hdr``, ``w:ftr``). The headers
    and footers are referred to by the last section, as rIdH1..., rIdF1...; each of
    ``imported`` by its owner's XML, as its ``rid`` (``<w:altChunk r:id="rIdImport1"/>``)."""
    parts: dict[str, tuple[str, str, str]] = {}  # name: relationship id, type, XML
    for root, kind, xml in [
        ("footnotes", "footnotes", footnotes),
        ("endnotes", "endnotes", endnotes),
        ("comments", "comments", comments),
    ]:
        if xml:
            parts[f"{kind}.xml"] = (
                f"rId{kind}",
                kind,
                f"<w:{root} {_WORD_NAMESPACES}>{xml}</w:{root}>",
            )
    references = ""
    for kind, root, short, texts in [
        ("header", "hdr", "H", headers),
        ("footer", "ftr", "F", footers),
    ]:
        for number, xml in enumerate(texts, 1):
            rid = f"rId{short}{number}"
            parts[f"{kind}{number}.xml"] = (
                rid,
                kind,
                f"<w:{root} {_WORD_NAMESPACES}>{xml}</w:{root}>",
            )
            page = ["default", "first", "even"][(number - 1) % 3]
            references += f'<w:{kind}Reference w:type="{page}" r:id="{rid}"/>'
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {_WORD_NAMESPACES}>'
        f"<w:body>{body}<w:sectPr>{references}</w:sectPr></w:body></w:document>"
    )
    overrides = "".join(
        f'<Override PartName="/word/{name}" ContentType="{_WORD_TYPES}{kind}+xml"/>'
        for name, (_, kind, _) in parts.items()
    ) + "".join(
        f'<Override PartName="/word/{part.name}" ContentType="{part.content_type}"/>'
        for part in imported
    )
    relationships: dict[str, str] = {"document": ""}  # a part's relationships, by owner
    for name, (rid, kind, _) in parts.items():
        relationships["document"] += (
            f'<Relationship Id="{rid}" Type="{_WORD_PARTS}{kind}" Target="{name}"/>'
        )
    for part in imported:
        relationships[part.owner] = relationships.get(part.owner, "") + (
            f'<Relationship Id="{part.rid}" Type="{_WORD_PARTS}{part.relationship}" '
            f'Target="{part.name}"/>'
        )
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" '
            f'ContentType="{_WORD_TYPES}document.main+xml"/>'
            f"{overrides}</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_WORD_PARTS}officeDocument" '
            'Target="word/document.xml"/></Relationships>',
        )
        archive.writestr("word/document.xml", document)
        for owner, related in relationships.items():
            archive.writestr(
                f"word/_rels/{owner}.xml.rels",
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                f'relationships">{related}</Relationships>',
            )
        for name, (_, _, xml) in parts.items():
            archive.writestr(f"word/{name}", xml)
        for part in imported:
            archive.writestr(f"word/{part.name}", part.data)
    return package.getvalue()


_ODF_NAMESPACES = (
    " ".join(
        f'xmlns:{prefix}="urn:oasis:names:tc:opendocument:xmlns:{name}:1.0"'
        for prefix, name in [
            ("office", "office"),
            ("text", "text"),
            ("table", "table"),
            ("draw", "drawing"),
            ("style", "style"),
            ("svg", "svg-compatible"),
            ("presentation", "presentation"),
            ("manifest", "manifest"),
        ]
    )
    + ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
    + ' xmlns:xlink="http://www.w3.org/1999/xlink"'
)


def open_document(
    kind: str,
    body: str,
    master_styles: str = "",
    media_type: str | None = None,
    encrypted: bool = False,
    members: dict[str, bytes] | None = None,
) -> bytes:
    """An OpenDocument package as LibreOffice writes one: ``mimetype`` first and stored (the
    type of ``kind``: text, spreadsheet or presentation, unless ``media_type`` says another),
    ``content.xml`` with ``body`` inside ``office:body/office:KIND`` (prefixes office, text,
    table, draw, style, svg, presentation, dc and xlink declared), ``styles.xml`` with
    ``master_styles`` inside ``office:master-styles``, a manifest, which says content.xml
    is encrypted where ``encrypted`` (its bytes then random, as a cipher's), and ``members``
    (an OLE object's compound file, "Object 1", as a frame's ``draw:object-ole`` names it)."""
    media_type = media_type or f"application/vnd.oasis.opendocument.{kind}"
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF_NAMESPACES} '
        f'office:version="1.3"><office:body><office:{kind}>{body}</office:{kind}></office:body>'
        "</office:document-content>"
    ).encode()
    styles = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-styles {_ODF_NAMESPACES}>'
        f"<office:master-styles>{master_styles}</office:master-styles></office:document-styles>"
    )
    encryption = (
        '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="AA==">'
        '<manifest:algorithm manifest:algorithm-name="Blowfish CFB" '
        'manifest:initialisation-vector="AA=="/></manifest:encryption-data>'
        if encrypted
        else ""
    )
    manifest = (
        f'<manifest:manifest {_ODF_NAMESPACES} manifest:version="1.3">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{media_type}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
        f"{encryption}</manifest:file-entry>"
        '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    if encrypted:
        content = random.Random(len(content)).randbytes(len(content))
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", media_type, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        archive.writestr("styles.xml", styles)
        archive.writestr("META-INF/manifest.xml", manifest)
        for name, data in (members or {}).items():
            archive.writestr(name, data)
    return package.getvalue()


def odf_chart(title: str, rows: Sequence[Sequence[object]]) -> bytes:
    """A chart of ODF's own as LibreOffice keeps one, its folder's ``content.xml``: the chart,
    its title, and the table of its figures (``local-table``: the header row first, then a row
    per category) with a first series of no values, collapsed, as LibreOffice writes it."""
    title_xml = f"<chart:title><text:p>{title}</text:p></chart:title>" if title else ""

    def cells(row: Sequence[object], header: bool) -> str:
        first, *rest = row
        value = "" if header else ' office:value-type="float" office:value="NaN"'
        blank = f"<table:table-cell{value}><text:p>{'' if header else 'NaN'}</text:p>"
        return (
            f"<table:table-row><table:table-cell><text:p>{first}</text:p></table:table-cell>"
            f"{blank}</table:table-cell>"
            + "".join(
                f"<table:table-cell><text:p>{cell}</text:p></table:table-cell>" for cell in rest
            )
            + "</table:table-row>"
        )

    header, *body = rows
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF_NAMESPACES} '
        'xmlns:chart="urn:oasis:names:tc:opendocument:xmlns:chart:1.0"><office:body>'
        f'<office:chart><chart:chart chart:class="chart:bar">{title_xml}<chart:plot-area/>'
        '<table:table table:name="local-table"><table:table-header-columns><table:table-column/>'
        "</table:table-header-columns><table:table-columns><table:table-column "
        f'table:visibility="collapse"/><table:table-column table:number-columns-repeated="'
        f'{len(header) - 1}"/></table:table-columns><table:table-header-rows>'
        f"{cells(header, True)}</table:table-header-rows><table:table-rows>"
        + "".join(cells(row, False) for row in body)
        + "</table:table-rows></table:table></chart:chart></office:chart></office:body>"
        "</office:document-content>"
    ).encode()


def chart_frame(href: str, y: str = "5cm") -> str:
    """A frame showing the object of ODF's own (a chart) in the folder ``href`` names, and its
    picture, as LibreOffice writes one."""
    return (
        f'<draw:frame draw:name="{href}" svg:x="1cm" svg:y="{y}" svg:width="8cm" '
        f'svg:height="5cm"><draw:object xlink:href="./{href}"/>'
        f'<draw:image xlink:href="./ObjectReplacements/{href}"/></draw:frame>'
    )


def ole_frame(href: str) -> str:
    """A frame showing the OLE object ``href`` names, and its picture, as LibreOffice writes
    one (``draw:object-ole``, then ``draw:image``)."""
    return (
        f'<draw:frame draw:name="{href}" svg:x="1cm" svg:y="5cm" svg:width="3cm" '
        f'svg:height="1cm"><draw:object-ole xlink:href="./{href}"/>'
        f'<draw:image xlink:href="./ObjectReplacements/{href}"/></draw:frame>'
    )


def flat_open_document(package: bytes) -> bytes:
    """The flat form (``.fodt``, ``.fods``, ``.fodp``) of the OpenDocument ``package``, as
    LibreOffice writes one: one ``office:document``, its type in ``office:mimetype``, holding
    what the package's meta.xml, settings.xml, styles.xml and content.xml hold, in that order."""
    from lxml import etree

    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        root = etree.Element(f"{{{office}}}document", nsmap={"office": office})
        root.set(f"{{{office}}}mimetype", archive.read("mimetype").decode())
        root.set(f"{{{office}}}version", "1.3")
        for name in ("meta.xml", "settings.xml", "styles.xml", "content.xml"):
            if name in archive.namelist():
                root.extend(etree.fromstring(archive.read(name), etree.XMLParser(huge_tree=True)))
    flat: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return flat


def flat_package(package: bytes) -> bytes:
    """The flat form (Flat OPC) of the Office package ``package``, as Word ("Word XML
    Document") and PowerPoint ("PowerPoint XML Presentation") write one: the program that opens
    it named; the package's relationships, the main part's, the main part, then the rest; XML
    parts as ``pkg:xmlData``, every other part as ``pkg:binaryData`` (base64 in lines of 76)."""
    import base64

    from lxml import etree

    pkg = "http://schemas.microsoft.com/office/2006/xmlPackage"
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        types = etree.fromstring(archive.read("[Content_Types].xml"))
        by_extension = {t.get("Extension", "").lower(): t.get("ContentType") for t in types}
        by_name = {t.get("PartName", "").lower(): t.get("ContentType", "") for t in types}
        names = [n for n in archive.namelist() if n != "[Content_Types].xml" and n[-1] != "/"]
        main = next(  # the package's relationship to its main part
            r.get("Target", "").lstrip("/")
            for r in etree.fromstring(archive.read("_rels/.rels"))
            if r.get("Type", "").endswith("/officeDocument")
        )
        folder, _, file = main.rpartition("/")
        first = ["_rels/.rels", f"{folder}/_rels/{file}.rels", main]
        root = etree.Element(f"{{{pkg}}}package", nsmap={"pkg": pkg})
        for name in [n for n in first if n in names] + [n for n in names if n not in first]:
            content_type = by_name.get("/" + name.lower()) or by_extension.get(
                name.rpartition(".")[2].lower(), ""
            )
            part = etree.SubElement(root, f"{{{pkg}}}part")
            part.set(f"{{{pkg}}}name", "/" + name)
            part.set(f"{{{pkg}}}contentType", content_type)
            data = archive.read(name)
            if content_type.endswith(("+xml", "/xml")) and data.lstrip().startswith(b"<"):
                parser = etree.XMLParser(huge_tree=True)
                etree.SubElement(part, f"{{{pkg}}}xmlData").append(etree.fromstring(data, parser))
            else:
                data_element = etree.SubElement(part, f"{{{pkg}}}binaryData")
                data_element.text = base64.encodebytes(data).decode()
    program = (
        "PowerPoint.Show" if "presentationml" in by_name.get("/" + main, "") else "Word.Document"
    )
    root.addprevious(etree.ProcessingInstruction("mso-application", f'progid="{program}"'))
    flat: bytes = etree.tostring(
        root.getroottree(), xml_declaration=True, encoding="UTF-8", standalone=True
    )
    return flat


_WORD_2003_NAMESPACES = (
    'xmlns:w="http://schemas.microsoft.com/office/word/2003/wordml" '
    'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:w10="urn:schemas-microsoft-com:office:word" '
    'xmlns:sl="http://schemas.microsoft.com/schemaLibrary/2003/core" '
    'xmlns:aml="http://schemas.microsoft.com/aml/2001/core" '
    'xmlns:wx="http://schemas.microsoft.com/office/word/2003/auxHint" '
    'xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:dt="uuid:C2F41010-65B3-11d1-A29F-00AA00C14882"'
)


def word_2003_xml(
    body: str,
    headers: Sequence[str] = (),
    pictures: int = 0,
    objects: dict[str, bytes] | None = None,
) -> bytes:
    """A Word 2003 XML document as Word writes one: its properties, fonts, styles and settings
    (the separators of its footnotes among them) before the body; ``body`` the XML of its one
    section (prefixes w, wx, aml, v and o declared), ``headers`` the XML in each of that
    section's headers; ``pictures`` bytes of a picture in base64 (``w:binData``) in a
    paragraph of their own at the end; and ``objects`` (an object's id, its compound file) in
    the document's pool of objects (``w:docOleData``: in base64, a compound file of a stream
    each, named by the id: the object's size, then the object compressed with zlib), as the
    body's ``o:OLEObject`` elements name them (wordml_object)."""
    pool = ""
    if objects:
        from docproc.extract.compound import compound_file

        streams = {
            object_id: struct.pack("<I", len(compound)) + zlib.compress(compound)
            for object_id, compound in objects.items()
        }
        encoded = base64.encodebytes(compound_file(streams)).decode()
        pool = f'<w:docOleData><w:binData w:name="oledata.mso">{encoded}</w:binData></w:docOleData>'

    picture = ""
    if pictures:
        data = base64.encodebytes(random.Random(pictures).randbytes(pictures)).decode()
        picture = (
            f'<w:p><w:r><w:pict><w:binData w:name="wordml://02000001.jpg">{data}</w:binData>'
            '<v:shape id="_x0000_i1025" style="width:200pt;height:100pt"><v:imagedata '
            'src="wordml://02000001.jpg" o:title="photo"/></v:shape></w:pict></w:r></w:p>'
        )
    sections = "".join(
        f'<w:hdr w:type="{["odd", "first", "even"][n % 3]}">{xml}</w:hdr>'
        for n, xml in enumerate(headers)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<?mso-application progid="Word.Document"?>\n'
        f'<w:wordDocument {_WORD_2003_NAMESPACES} w:macrosPresent="no" w:embeddedObjPresent="no" '
        'w:ocxPresent="no" xml:space="preserve">'
        "<o:DocumentProperties><o:Title>Lease</o:Title><o:Author>Ann</o:Author>"
        "</o:DocumentProperties>"
        '<w:fonts><w:defaultFonts w:ascii="Times New Roman"/></w:fonts>'
        '<w:styles><w:style w:type="paragraph" w:default="on" w:styleId="Normal">'
        '<w:name w:val="Normal"/></w:style></w:styles>'
        f"{pool}"
        '<w:docPr><w:view w:val="print"/><w:footnotePr><w:footnote w:type="separator"><w:p>'
        "<w:r><w:separator/></w:r></w:p></w:footnote></w:footnotePr></w:docPr>"
        f"<w:body><wx:sect>{body}{picture}<w:sectPr>{sections}"
        '<w:pgSz w:w="12240" w:h="15840"/></w:sectPr></wx:sect></w:body></w:wordDocument>'
    ).encode()


def wordml_object(object_id: str) -> str:
    """A run showing the object ``object_id`` of a Word 2003 XML document's pool, as Word
    writes one: its picture's shape, then ``o:OLEObject`` naming it."""
    return (
        '<w:r><w:pict><v:shape id="_x0000_i1025" style="width:90pt;height:40pt" o:ole="">'
        '<v:imagedata src="wordml://06000001.emz" o:title=""/></v:shape>'
        '<o:OLEObject Type="Embed" ProgID="Package" ShapeID="_x0000_i1025" DrawAspect="Icon" '
        f'ObjectID="{object_id}"/></w:pict></w:r>'
    )


def excel_2003_xml(sheets: dict[str, Sequence[Sequence[object]]]) -> bytes:
    """An Excel 2003 XML workbook as Excel writes one ("XML Spreadsheet 2003"): its properties
    and styles, then each of ``sheets``, its rows of values (text, numbers, booleans, dates and
    times; None leaves a cell out, the next one placed by its ``ss:Index``; a value that is a
    string beginning ``<Cell`` is the cell's XML as it is)."""
    import datetime
    from xml.sax.saxutils import escape

    def cell(value: object, index: int | None) -> str:
        at = f' ss:Index="{index}"' if index is not None else ""
        if isinstance(value, str) and value.startswith("<Cell"):
            return value
        if isinstance(value, bool):
            kind, text = "Boolean", str(int(value))
        elif isinstance(value, int | float):
            kind, text = "Number", repr(value)
        elif isinstance(value, datetime.datetime):
            kind, text = "DateTime", value.isoformat(timespec="milliseconds")
        else:
            kind, text = "String", escape(str(value))
        return f'<Cell{at}><Data ss:Type="{kind}">{text}</Data></Cell>'

    def row(values: Sequence[object]) -> str:
        cells, skipped = [], False
        for number, value in enumerate(values, start=1):
            if value is None:
                skipped = True
                continue
            cells.append(cell(value, number if skipped else None))
            skipped = False
        return "<Row>" + "".join(cells) + "</Row>"

    worksheets = "".join(
        f'<Worksheet ss:Name="{escape(name)}"><Table x:FullColumns="1" x:FullRows="1">'
        + "".join(row(values) for values in rows)
        + '</Table><WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel">'
        "<Selected/></WorksheetOptions></Worksheet>"
        for name, rows in sheets.items()
    )
    return (
        '<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:html="http://www.w3.org/TR/REC-html40">\n'
        '<DocumentProperties xmlns="urn:schemas-microsoft-com:office:office"><Author>Ann'
        "</Author></DocumentProperties>"
        '<Styles><Style ss:ID="Default" ss:Name="Normal"><Alignment ss:Vertical="Bottom"/>'
        "</Style></Styles>" + worksheets + "</Workbook>"
    ).encode()


def docx_with_photographs(path: Path, photographs: int, photograph_bytes: int) -> Path:
    """A DOCX whose size is its photographs: a captioned picture each (see
    _with_media_padded)."""
    document = docx.Document()
    document.add_heading("Photographs of the premises", 1)
    for number in range(photographs):
        document.add_paragraph(f"Photograph {number}: the north wall on day {number}.")
        document.add_picture(io.BytesIO(_tiny_png(number)))
    made = path.with_suffix(".small.docx")
    document.save(str(made))
    return _with_media_padded(made, path, "word/media/", photograph_bytes, seed=photographs)


def presentation_with_photographs(path: Path, photographs: int, photograph_bytes: int) -> Path:
    """A PPTX whose size is its photographs: a slide each, titled with its caption (see
    _with_media_padded)."""
    import pptx
    from pptx.util import Inches

    deck = pptx.Presentation()
    for number in range(photographs):
        slide = deck.slides.add_slide(deck.slide_layouts[5])
        slide.shapes.title.text = f"Photograph {number}: the north wall on day {number}."
        slide.shapes.add_picture(io.BytesIO(_tiny_png(number)), Inches(1), Inches(2))
    made = path.with_suffix(".small.pptx")
    deck.save(str(made))
    return _with_media_padded(made, path, "ppt/media/", photograph_bytes, seed=photographs)


def _tiny_png(number: int) -> bytes:
    """An 8x8 PNG, made distinct by ``number`` after its end (a reader stops there)."""
    pixels = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 8, 8), False)
    return pixels.tobytes("png") + bytes([number % 256])


def _with_media_padded(made: Path, path: Path, media: str, media_bytes: int, seed: int) -> Path:
    """The Office package ``made`` written to ``path`` with each part under ``media`` padded to
    ``media_bytes`` with random bytes after the PNG's end and stored, as a camera's JPEG would
    be, without compression; ``made`` is removed."""
    rng = random.Random(seed)
    with zipfile.ZipFile(made) as small, zipfile.ZipFile(path, "w") as large:
        for info in small.infolist():
            data = small.read(info)
            if info.filename.startswith(media):
                data += rng.randbytes(media_bytes - len(data))
                large.writestr(info.filename, data, zipfile.ZIP_STORED)
            else:
                large.writestr(info.filename, data, zipfile.ZIP_DEFLATED)
    made.unlink()
    return path


def docx_of_xml_size(path: Path, xml_bytes: int) -> Path:
    """A small DOCX whose document.xml inflates to ``xml_bytes``: one paragraph, then a
    comment of spaces (a zip bomb, as far as the XML's size goes)."""
    made = docx_file(path.with_suffix(".small.docx"), ["A short memo."])
    with zipfile.ZipFile(made) as small, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in small.infolist():
            if info.filename != "word/document.xml":
                bomb.writestr(info, small.read(info))
                continue
            xml = small.read(info)
            with bomb.open(info.filename, "w", force_zip64=True) as member:
                member.write(xml + b"<!--")
                padding = b" " * 2**20
                for _ in range((xml_bytes - len(xml)) // len(padding)):
                    member.write(padding)
                member.write(b"-->")
    made.unlink()
    return path


def comic_book(path: Path, pages: int, width: int = 800, height: int = 600) -> Path:
    """A CBZ of ``pages`` distinct JPEGs, stored, as scans in a comic-book archive are: one
    noise picture (~0.8 MB at 800x600: noise does not compress) made distinct by the page's
    number after its end, where a reader stops (encoding each would take ~0.1 s a page)."""
    rng = random.Random(pages)
    pixels = pymupdf.Pixmap(pymupdf.csRGB, width, height, rng.randbytes(width * height * 3), False)
    picture = pixels.tobytes("jpg", jpg_quality=90)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for number in range(pages):
            archive.writestr(f"page{number:04d}.jpg", picture + number.to_bytes(4, "big"))
    return path


def web_page(seed: int, elements: int) -> str:
    """A saved web page of ``elements`` pieces of markup in random order: paragraphs whose
    tags span lines, scripts (with "<", ">", "<!--" and "-->" inside), style sheets, comments
    of several lines, and long lines of tags. Visible words are "shown<n>", the others
    "hidden<n>"."""
    rng = random.Random(seed)
    parts = ["<html><head><title>shown0</title><style>.hidden0 { x: 1 }</style></head><body>\n"]
    for n in range(1, elements):
        kind = rng.choice(["p", "p", "p", "script", "style", "comment", "line"])
        if kind == "p":
            parts.append(f'<p\n class="c{n}"\n data-note="x">shown{n} a &amp; b</p>\n')
        elif kind == "script":
            body = "".join(f"var hidden{n}x{i} = a<b && c>d; // <!-- -->\n" for i in range(5))
            parts.append(f'<script\n type="text/javascript">\n{body}</script>\n')
        elif kind == "style":
            body = "".join(f".hidden{n}x{i} {{ margin: 0 }}\n" for i in range(5))
            parts.append(f"<style>\n{body}</style>\n")
        elif kind == "comment":
            parts.append(f"<!-- hidden{n}\n <p>hidden{n}b</p>\n hidden{n}c -->\n")
        else:
            cells = " ".join(f'<span class="k{i}">shown{n}x{i}</span>' for i in range(30))
            parts.append(f"<div>{cells}</div>\n")
    return "".join(parts) + "</body></html>\n"


def pdf_of_lines(lines: list[str]) -> bytes:
    """A PDF of one page a line."""
    document = pymupdf.open()
    for line in lines:
        document.new_page().insert_text((50, 60), line)
    data = document.tobytes()
    document.close()
    return bytes(data)


def pdf_with_attachments(
    lines: list[str],
    attached: Sequence[tuple[str, bytes]] = (),
    annotated: Sequence[tuple[int, str, bytes]] = (),
    kids: bool = False,
) -> bytes:
    """A PDF of one page a line, carrying files as Acrobat attaches them: ``attached`` (name,
    content) in its EmbeddedFiles name tree (under a kid of it where ``kids``: as a tree of
    many files is written), ``annotated`` (page index, name, content) as file attachment
    annotations on its pages. Attached files are stored Flate-compressed."""
    document = pymupdf.open()
    for line in lines:
        document.new_page().insert_text((50, 60), line)
    for number, (name, content) in enumerate(attached):
        # (the tree's keys are unique: the files' own names need not be)
        document.embfile_add(f"{number:03d}", content, filename=name, ufilename=name)
    for index, name, content in annotated:
        document[index].add_file_annot((20, 20), content, name, ufilename=name)
    if kids and attached:
        catalog = document.pdf_catalog()
        kind, entries = document.xref_get_key(catalog, "Names/EmbeddedFiles/Names")
        assert kind == "array"
        kid = document.get_new_xref()
        last = f"{len(attached) - 1:03d}"
        document.update_object(kid, f"<< /Limits [(000) ({last})] /Names {entries} >>")
        document.xref_set_key(catalog, "Names/EmbeddedFiles", f"<< /Kids [{kid} 0 R] >>")
    data = document.tobytes(deflate=True, garbage=1)
    document.close()
    return bytes(data)


def email_message(
    subject: str,
    body: str,
    html: str | None = None,
    attachments: Sequence[tuple[str, str, bytes | EmailMessage]] = (),
    sender: str = "Ana Ruiz <ana@firm.example>",
) -> EmailMessage:
    """An e-mail as a mail program writes one: a plain body (and its HTML alternative), then
    attachments ``(file name, MIME type, content)``, base64-encoded; a message attached whole
    when the content is one."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "Ben Ode <ben@client.example>"
    message["Date"] = "Tue, 03 Mar 2026 10:15:00 +0000"
    message["Message-ID"] = "<1@firm.example>"
    message["Subject"] = subject
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for name, kind, content in attachments:
        if isinstance(content, EmailMessage):
            message.add_attachment(content, filename=name)
        else:
            maintype, subtype = kind.split("/")
            message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message


def mime_entity(body: str, attachments: Sequence[tuple[str, str, bytes]] = ()) -> EmailMessage:
    """A message's content without its header (what a signature covers): a plain body, then
    attachments."""
    content = EmailMessage()
    content.set_content(body)
    for name, kind, data in attachments:
        maintype, subtype = kind.split("/")
        content.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    del content["MIME-Version"]
    return content


def signed_entity(body: str, attachments: Sequence[tuple[str, str, bytes]] = ()) -> bytes:
    """What an Outlook message signed keeps as its one attachment (``multipart/signed``,
    [MS-OXOSMIME]): the signed MIME entity, a body and files, then the signature (here bytes
    that only look like one: nothing reads it)."""
    content = mime_entity(body, attachments)
    signature = EmailMessage()
    signature.set_content(
        b"0\x82\x01\x00signature", "application", "pkcs7-signature", filename="smime.p7s"
    )
    del signature["MIME-Version"]
    signed = EmailMessage()
    signed.make_mixed()
    signed.replace_header(
        "Content-Type",
        'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256',
    )
    signed.attach(content)
    signed.attach(signature)
    del signed["MIME-Version"]
    return signed.as_bytes()


@functools.cache
def _throwaway_signer() -> tuple[object, object]:
    """A self-signed certificate and its key, made once per run (for S/MIME test messages)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ana@firm.example")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def smime_object(entity: bytes, encrypted: bool = False) -> bytes:
    """An opaque S/MIME object (smime.p7m, DER) holding the MIME entity ``entity``: signed
    (signed-data, the entity inside it) or encrypted to a throwaway certificate."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    certificate, key = _throwaway_signer()
    if encrypted:
        builder = pkcs7.PKCS7EnvelopeBuilder().set_data(entity).add_recipient(certificate)
        return builder.encrypt(Encoding.DER, [])  # type: ignore[arg-type]
    signer = pkcs7.PKCS7SignatureBuilder().set_data(entity)
    signer = signer.add_signer(certificate, key, hashes.SHA256())  # type: ignore[arg-type]
    return signer.sign(Encoding.DER, [pkcs7.PKCS7Options.Binary])


def smime_streamed(entity: bytes, piece: int = 1000) -> bytes:
    """An opaque signed S/MIME object as Outlook streams one out (BER): indefinite lengths,
    the entity in an OCTET STRING of pieces; no signer (nothing here reads one)."""

    def definite(tag: int, content: bytes) -> bytes:
        size = len(content)
        length = bytes([size]) if size < 128 else bytes([0x80 | 4]) + size.to_bytes(4, "big")
        return bytes([tag]) + length + content

    def indefinite(tag: int, *contents: bytes) -> bytes:
        return bytes([tag, 0x80]) + b"".join(contents) + b"\0\0"

    signed_data = bytes.fromhex("06092a864886f70d010702")  # 1.2.840.113549.1.7.2
    data = bytes.fromhex("06092a864886f70d010701")  # 1.2.840.113549.1.7.1
    pieces = [definite(0x04, entity[at : at + piece]) for at in range(0, len(entity), piece)]
    encapsulated = indefinite(0x30, data, indefinite(0xA0, indefinite(0x24, *pieces)))
    sha256 = definite(0x30, bytes.fromhex("0609608648016503040201") + b"\x05\x00")
    signed = indefinite(
        0x30, definite(0x02, b"\x01"), definite(0x31, sha256), encapsulated, definite(0x31, b"")
    )
    return indefinite(0x30, signed_data, indefinite(0xA0, signed))


def smime_email(subject: str, p7m: bytes, smime_type: str = "signed-data") -> EmailMessage:
    """An e-mail whose whole content is an opaque S/MIME object, as mail programs send one."""
    message = EmailMessage()
    message["From"] = "Ana Ruiz <ana@firm.example>"
    message["To"] = "Ben Ode <ben@client.example>"
    message["Message-ID"] = "<2@firm.example>"
    message["Subject"] = subject
    message.set_content(
        p7m, "application", "pkcs7-mime", params={"smime-type": smime_type}, filename="smime.p7m"
    )
    return message


def emlx_file(message: EmailMessage) -> bytes:
    """An Apple Mail message file (.emlx): the message's size in bytes on a line, padded as
    Mail pads it, the message, then Mail's property list of its flags."""
    raw = message.as_bytes()
    flags = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<dict>\n'
        b"\t<key>flags</key>\n\t<integer>8590195713</integer>\n</dict>\n</plist>\n"
    )
    return f"{len(raw):<10}\n".encode() + raw + flags


def mailbox_file(path: Path, messages: Sequence[EmailMessage]) -> Path:
    """An mbox file as mail programs keep one, written by the standard library's writer."""
    box = mailbox.mbox(str(path), create=True)
    box.lock()
    try:
        for message in messages:
            box.add(message)
        box.flush()
    finally:
        box.unlock()
        box.close()
    return path


def many_empty_pages(path: Path, pages: int) -> Path:
    """A PDF of ``pages`` empty pages, written directly (building it page by page through
    PyMuPDF is quadratic): one flat page tree, one tiny object per page."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count %d /Kids [%s] >>"
        % (pages, b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))),
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"] * pages
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


def fb2_file(path: Path, sections: list[str]) -> Path:
    """A minimal FictionBook 2 (XML) with one section per entry."""
    body = "".join(
        f"<section><title><p>Section {i + 1}</p></title><p>{text}</p></section>"
        for i, text in enumerate(sections)
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<FictionBook xmlns="http://www.gribuser.ru/xml/fictionbook/2.0">'
        "<description><title-info><book-title>Exhibit</book-title></title-info></description>"
        f"<body>{body}</body></FictionBook>",
        encoding="utf-8",
    )
    return path


def page_picture(
    lines: Sequence[str], mode: str = "1", dpi: int = 150, width: int = 420, height: int = 120
) -> Image.Image:
    """A scan of a page (``width`` x ``height`` points) showing ``lines``: drawn by MuPDF,
    rasterised at ``dpi`` in ``mode`` ("1": black and white, as faxes and productions are;
    "L": gray; "RGB": a photo)."""
    drawn = pymupdf.open()
    sheet = drawn.new_page(width=width, height=height)
    for number, line in enumerate(lines):
        sheet.insert_text((24, 40 + 28 * number), line, fontname="helv", fontsize=13)
    pixmap = sheet.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
    drawn.close()
    return Image.frombytes("L", (pixmap.width, pixmap.height), pixmap.samples).convert(mode)


def scanned_tiff(
    path: Path,
    pages: Sequence[Sequence[str]],
    compression: str = "group4",
    dpi: int = 150,
    **options: object,
) -> Path:
    """A multi-page TIFF, a page a frame (``options``: Pillow's, e.g. big_tiff=True)."""
    mode = "1" if compression.startswith("group") else "L"
    frames = [page_picture(lines, mode, dpi) for lines in pages]
    frames[0].save(
        path,
        save_all=True,
        append_images=frames[1:],
        compression=compression,
        dpi=(dpi, dpi),
        **options,
    )
    return path


def white_png(width: int, height: int) -> bytes:
    """A white gray PNG, written row by row (Pillow would hold it whole to write it): 1 MB
    for 30,000 x 30,000 pixels, 900 MB decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    packer = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * width
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def workbook(
    path: Path,
    sheets: dict[str, Sequence[Sequence[object]]],
    hidden: frozenset[str] | set[str] = frozenset(),
) -> Path:
    """An XLSX of ``sheets`` (name: rows of values), as openpyxl writes one (shared strings,
    dimensions stated); the sheets named in ``hidden`` hidden."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
        if name in hidden:
            sheet.sheet_state = "hidden"
    book.save(path)
    return path


def with_sheet_objects(book: bytes, sheet: int, objects: Sequence[tuple[str, bytes]]) -> bytes:
    """The XLSX ``book`` with ``objects`` ((part name under xl/embeddings/, bytes)) embedded on
    its sheet number ``sheet`` as Excel embeds them: each part named by the sheet's
    relationships (an OLE object's .bin as oleObject, an Office package as package) and by its
    ``oleObjects`` (openpyxl writes neither)."""
    ole = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/oleObject"
    package = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/package"
    sheet_part = f"xl/worksheets/sheet{sheet}.xml"
    rels_part = f"xl/worksheets/_rels/sheet{sheet}.xml.rels"
    relationships = "".join(
        f'<Relationship Id="rIdO{number}" Type="{ole if name.endswith(".bin") else package}" '
        f'Target="../embeddings/{name}"/>'
        for number, (name, _) in enumerate(objects)
    )
    listed = "".join(
        f'<oleObject progId="Package" shapeId="{1025 + number}" r:id="rIdO{number}"/>'
        for number in range(len(objects))
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as source, zipfile.ZipFile(out, "w") as target:
        names = source.namelist()
        for info in source.infolist():
            data = source.read(info)
            if info.filename == sheet_part:
                data = data.replace(
                    b"</worksheet>",
                    b'<oleObjects xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
                    b'2006/relationships">' + listed.encode() + b"</oleObjects></worksheet>",
                )
            elif info.filename == rels_part:
                end = b"</Relationships>"
                data = data.replace(end, relationships.encode() + end)
            target.writestr(info, data)
        if rels_part not in names:
            target.writestr(
                rels_part,
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                f'relationships">{relationships}</Relationships>',
            )
        for name, data in objects:
            target.writestr(f"xl/embeddings/{name}", data)
    return out.getvalue()


def with_content_type(package: bytes, old: str, new: str) -> bytes:
    """The Office package ``package`` with its parts of content type ``old`` declared as
    ``new`` in ``[Content_Types].xml`` (a DOCX's main part as a macro-enabled document's, a
    PPTX's as a slide show's: the same parts otherwise)."""
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        declared = source.read("[Content_Types].xml")
    assert old.encode() in declared
    return with_part_replaced(
        package, "[Content_Types].xml", declared.replace(old.encode(), new.encode())
    )


def with_part_replaced(package: bytes, name: str, data: bytes) -> bytes:
    """The ZIP ``package`` with its member ``name`` holding ``data`` instead."""
    copy = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(copy, "w") as target:
        for info in source.infolist():
            target.writestr(info, data if info.filename == name else source.read(info))
    return copy.getvalue()


def with_member_marked(archive: bytes, member: str, mark: str) -> bytes:
    """``archive`` with ``member``'s local and central headers saying it is compressed by a
    method zipfile lacks (``mark`` "compression": 99, AES, as encrypting archivers write) or
    that it is encrypted ("encryption": the flags' bit 0). A damaged header reads the same."""
    name = member.encode()
    data = bytearray(archive)
    # (signature, where the flags are, where the name starts) of a local and a central header
    for signature, flags_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            if data[start + name_at : start + name_at + len(name)] == name:
                if mark == "compression":  # the method follows the flags
                    data[start + flags_at + 2 : start + flags_at + 4] = (99).to_bytes(2, "little")
                else:
                    data[start + flags_at] |= 1
            start += 4
    return bytes(data)


def legacy_workbook(
    path: Path, sheets: dict[str, Sequence[Sequence[object]]], hidden: frozenset[str] = frozenset()
) -> Path:
    """An Excel 97-2003 workbook (.xls) of ``sheets``, as xlwt writes one: dates formatted as
    dates (a date is a number with a date format there)."""
    import datetime

    import xlwt

    book = xlwt.Workbook()
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        if name in hidden:
            sheet.visibility = 1
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, datetime.date):
                    sheet.write(r, c, value, date_style)
                elif value is not None:
                    sheet.write(r, c, value)
    book.save(str(path))
    return path


# The OBJ record Excel 2007 wrote for a file it embedded as an icon (oletools'
# embedded-simple-2007.xls): its subrecords ftCmo, ftCf, ftPioGrbit, ftPictFmla (the object's
# class, then lPosInCtlStm, which names its storage, at _OBJ_STORAGE_AT) and ftEnd.
_XLS_OBJ = bytes.fromhex(
    "1500120008000100116000000000a062f90400000000070002000200080002000100090030002a000500302f"
    "5f010200a07e00031a00004f626a656b742d4d616e616765722d5368656c6c6f626a656b74007bcf09000000"
    "0000"
)
_OBJ_STORAGE_AT = 82


def with_legacy_sheet_objects(book: bytes, sheet: int, objects: Sequence[bytes]) -> bytes:
    """The XLS ``book`` with ``objects`` (compound files) embedded on its sheet number
    ``sheet`` (from 1) as Excel embeds them: each in a storage of the file named "MBD" and 8
    hexadecimal digits, which an OBJ record in the sheet's records names (ftPictFmla's
    lPosInCtlStm); the sheets after it moved by as many bytes (their BOUNDSHEET records)."""
    import olefile

    from docproc.extract.compound import compound_file, storage_streams

    with olefile.OleFileIO(io.BytesIO(book)) as ole:
        streams = storage_streams(ole, "")
        records = ole.openstream("Workbook").read()
    positions: list[tuple[int, int]] = []  # (the BOUNDSHEET's offset, the sheet's BOF)
    at = 0
    while at + 4 <= len(records):
        kind, size = struct.unpack_from("<HH", records, at)
        if kind == 0x0085:
            positions.append((at + 4, struct.unpack_from("<I", records, at + 4)[0]))
        at += 4 + size
    start = positions[sheet - 1][1]
    at = start
    while struct.unpack_from("<H", records, at)[0] != 0x000A:  # the sheet's EOF
        at += 4 + struct.unpack_from("<H", records, at + 2)[0]
    added = b""
    taken = sum(path.startswith("MBD") for path in {name.split("/")[0] for name in streams})
    for number, compound in enumerate(objects, start=taken):
        key = 0x0009CF7B + number
        body = bytearray(_XLS_OBJ)
        struct.pack_into("<I", body, _OBJ_STORAGE_AT, key)
        added += struct.pack("<HH", 0x005D, len(body)) + bytes(body)
        with olefile.OleFileIO(io.BytesIO(compound)) as inner:
            for path, data in storage_streams(inner, "").items():
                streams[f"MBD{key:08X}/{path}"] = data
    moved = bytearray(records[:at] + added + records[at:])
    for where, bof in positions:
        if bof > start:
            struct.pack_into("<I", moved, where, bof + len(added))
    streams["Workbook"] = bytes(moved)
    return compound_file(streams)


@dataclass(frozen=True)
class Slide:
    """What one slide of ``presentation`` holds. ``boxes`` are text boxes at (top, left) in
    inches, added to the slide in the order given (the order they are drawn in);
    ``chart`` is (title, categories, {series: values}); ``group`` text boxes grouped."""

    title: str = ""
    boxes: Sequence[tuple[str, float, float]] = ()
    table: Sequence[Sequence[str]] = ()
    chart: tuple[str, Sequence[str], dict[str, Sequence[float]]] | None = None
    group: Sequence[str] = ()
    pictures: Sequence[tuple[str, float, float]] = ()  # (description, top, left): pptx only
    notes: str = ""
    hidden: bool = False


def presentation(path: Path, slides: Sequence[Slide]) -> Path:
    """A PPTX of ``slides``, as python-pptx writes one (a title-only layout each)."""
    import pptx
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE
    from pptx.util import Inches

    deck = pptx.Presentation()
    layout = deck.slide_layouts[5]  # "Title Only"
    for content in slides:
        slide = deck.slides.add_slide(layout)
        slide.shapes.title.text = content.title
        for text, top, left in content.boxes:
            box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(3), Inches(1))
            box.text_frame.text = text
        if content.table:
            rows, columns = len(content.table), len(content.table[0])
            frame = slide.shapes.add_table(
                rows, columns, Inches(0.5), Inches(5), Inches(9), Inches(0.3 * rows)
            )
            for r, row in enumerate(content.table):
                for c, value in enumerate(row):
                    frame.table.cell(r, c).text = value
        if content.chart:
            title, categories, series = content.chart
            data = CategoryChartData()
            data.categories = categories
            for name, values in series.items():
                data.add_series(name, values)
            chart = slide.shapes.add_chart(
                XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(2), Inches(6), Inches(4), data
            ).chart
            chart.has_title = True
            chart.chart_title.text_frame.text = title
        if content.group:
            group = slide.shapes.add_group_shape()
            for number, text in enumerate(content.group):
                top, left = Inches(6.5), Inches(0.5 + 3 * number)
                group.shapes.add_textbox(left, top, Inches(3), Inches(0.5)).text_frame.text = text
        for description, top, left in content.pictures:
            picture = slide.shapes.add_picture(io.BytesIO(_tiny_png(0)), Inches(left), Inches(top))
            picture.element.nvPicPr.cNvPr.set("descr", description)
        if content.notes:
            slide.notes_slide.notes_text_frame.text = content.notes
        if content.hidden:
            slide.element.set("show", "0")
    deck.save(str(path))
    return path


_DIAGRAM_DATA = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<dgm:dataModel xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram"
 xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><dgm:ptLst>
<dgm:pt modelId="0" type="doc"><dgm:prSet/><dgm:spPr/><dgm:t><a:bodyPr/><a:p/></dgm:t></dgm:pt>
{points}</dgm:ptLst><dgm:cxnLst/></dgm:dataModel>"""
_DIAGRAM_POINT = (
    '<dgm:pt modelId="{id}"><dgm:prSet/><dgm:spPr/><dgm:t><a:bodyPr/>'
    "<a:p><a:r><a:t>{text}</a:t></a:r></a:p></dgm:t></dgm:pt>"
    '<dgm:pt modelId="{id}0" type="pres"><dgm:prSet/><dgm:spPr/></dgm:pt>'
)
_DIAGRAM_FRAME = """<p:graphicFrame xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"
 xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<p:nvGraphicFramePr><p:cNvPr id="99" name="Diagram"/><p:cNvGraphicFramePr/><p:nvPr/>
</p:nvGraphicFramePr><p:xfrm><a:off x="457200" y="5943600"/><a:ext cx="8229600" cy="457200"/>
</p:xfrm><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/diagram">
<dgm:relIds xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram"
 r:dm="rIdDiagram" r:lo="rIdLayout" r:qs="rIdStyle" r:cs="rIdColors"/>
</a:graphicData></a:graphic></p:graphicFrame>"""


def diagram_data(nodes: Sequence[str]) -> bytes:
    """A SmartArt diagram's data part holding ``nodes`` (each with its presentation point, as
    Office writes them): where a diagram's text is."""
    points = "".join(
        _DIAGRAM_POINT.format(id=number, text=text) for number, text in enumerate(nodes, 1)
    )
    return _DIAGRAM_DATA.format(points=points).encode()


def diagram_run(rid: str) -> str:
    """A run showing the SmartArt diagram whose data part the document relates as ``rid``, as
    Word writes one: a drawing inline, its graphic's data ``dgm:relIds`` (only the data part
    is related here)."""
    return (
        '<w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/'
        'wordprocessingDrawing"><wp:extent cx="5486400" cy="3200400"/><wp:docPr id="2" '
        'name="Diagram 1"/><a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/'
        'main"><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/diagram">'
        '<dgm:relIds xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram" '
        f'r:dm="{rid}" r:lo="rIdLo" r:qs="rIdQs" r:cs="rIdCs"/></a:graphicData></a:graphic>'
        "</wp:inline></w:drawing></w:r>"
    )


def with_smartart(deck: bytes, slide: int, nodes: Sequence[str]) -> bytes:
    """``deck`` with a SmartArt diagram of ``nodes`` at the foot of slide ``slide``, as
    PowerPoint stores one: a graphic frame naming its data part (python-pptx cannot make one).
    Only the data part, which holds the text, is written."""
    points = "".join(
        _DIAGRAM_POINT.format(id=number, text=text) for number, text in enumerate(nodes, 1)
    )
    slide_part = f"ppt/slides/slide{slide}.xml"
    rels_part = f"ppt/slides/_rels/slide{slide}.xml.rels"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(deck)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == slide_part:
                data = data.replace(b"</p:spTree>", _DIAGRAM_FRAME.encode() + b"</p:spTree>")
            elif info.filename == rels_part:
                relationship = (
                    '<Relationship Id="rIdDiagram" Target="../diagrams/data1.xml" Type="'
                    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
                    'diagramData"/>'
                )
                end = b"</Relationships>"
                data = data.replace(end, relationship.encode() + end)
            elif info.filename == "[Content_Types].xml":
                override = (
                    '<Override PartName="/ppt/diagrams/data1.xml" ContentType="application/'
                    'vnd.openxmlformats-officedocument.drawingml.diagramData+xml"/>'
                )
                data = data.replace(b"</Types>", override.encode() + b"</Types>")
            target.writestr(info, data)
        target.writestr("ppt/diagrams/data1.xml", _DIAGRAM_DATA.format(points=points))
    return out.getvalue()


@dataclass(frozen=True)
class OleAttachment:
    """An OLE object attached to an Outlook message as Outlook attaches one to a message in
    rich text (afStorage: the object's storage under the attachment's, [MS-OXMSG] 2.2.2.1):
    its display name and its storage's streams ("storage/stream": bytes). .msg only."""

    name: str
    streams: dict[str, bytes]

    @classmethod
    def of_file(cls, name: str, compound: bytes) -> OleAttachment:
        """The object whose storage holds what the compound file ``compound`` holds (a DOC, an
        XLS, a Packager's object: the storage an application embeds is its file's root)."""
        import olefile

        from docproc.extract.compound import storage_streams

        with olefile.OleFileIO(io.BytesIO(compound)) as ole:
            return cls(name, storage_streams(ole, ""))


@dataclass(frozen=True)
class OutlookMessage:
    """What ``outlook_message`` writes: recipients are (field, name, address) with field
    "To", "Cc" or "Bcc"; attachments are (name, MIME type, bytes), a message of their own
    (attached as Outlook attaches one: a storage, not bytes) or an OLE object (.msg only). A
    body in ``html`` or in compressed RTF (``rtf``) replaces the plain one where ``body`` is
    empty."""

    subject: str
    body: str = ""
    sender: tuple[str, str] = ("Ana Ruiz", "ana@firm.example")
    recipients: Sequence[tuple[str, str, str]] = (("To", "Ben Ode", "ben@client.example"),)
    sent: datetime.datetime = datetime.datetime(2026, 3, 3, 10, 15, tzinfo=datetime.UTC)
    attachments: Sequence[tuple[str, str, bytes] | OutlookMessage | OleAttachment] = ()
    html: str = ""
    rtf: str = ""
    ansi: bool = False  # strings in the message's code page, not UTF-16
    codepage: int = 1252


def outlook_message(message: OutlookMessage) -> bytes:
    """An Outlook message (.msg) of ``message``, its properties where [MS-OXMSG] puts them."""
    from docproc.extract.compound import compound_file

    return compound_file(_message_streams(message, "", 32))


def _message_streams(message: OutlookMessage, path: str, header: int) -> dict[str, bytes]:
    recipients = {"To": 1, "Cc": 2, "Bcc": 3}
    body: dict[int, object] = {0x1000: message.body} if message.body else {}
    if message.html:
        body[0x1013] = message.html.encode("cp1252")
    if message.rtf:
        import compressed_rtf

        body[0x1009] = compressed_rtf.compress(message.rtf.encode("latin-1"), compressed=True)
    properties: dict[int, object] = {
        0x001A: "IPM.Note",
        0x0037: message.subject,
        0x0039: message.sent,
        0x0C1A: message.sender[0],
        0x0C1F: message.sender[1],
        0x0E04: "; ".join(name for field, name, _ in message.recipients if field == "To"),
        0x3FFD: message.codepage,
        **body,
    }
    encoding = f"cp{message.codepage}" if message.ansi else None
    streams = _property_streams(path, header, properties, encoding)
    for number, (field, name, address) in enumerate(message.recipients):
        recipient = {0x0C15: recipients[field], 0x3001: name, 0x39FE: address}
        storage = f"{path}__recip_version1.0_#{number:08X}/"
        streams |= _property_streams(storage, 8, recipient, encoding)
    for number, attachment in enumerate(message.attachments):
        storage = f"{path}__attach_version1.0_#{number:08X}/"
        if isinstance(attachment, OutlookMessage):
            streams |= _property_streams(storage, 8, {0x3705: 5, 0x3001: attachment.subject})
            streams |= _message_streams(attachment, f"{storage}__substg1.0_3701000D/", 24)
            continue
        if isinstance(attachment, OleAttachment):
            streams |= _property_streams(storage, 8, {0x3705: 6, 0x3001: attachment.name})
            streams |= {
                f"{storage}__substg1.0_3701000D/{name}": data
                for name, data in attachment.streams.items()
            }
            continue
        name, kind, data = attachment
        described = {0x3705: 1, 0x3707: name, 0x370E: kind, 0x3701: data}
        streams |= _property_streams(storage, 8, described)
    return streams


def _property_streams(
    path: str, header: int, properties: dict[int, object], encoding: str | None = None
) -> dict[str, bytes]:
    """A storage's properties: numbers and times in ``__properties_version1.0``, strings (in
    ``encoding`` where given, else UTF-16) and bytes in streams of their own (their size in
    the former)."""
    entries, streams = [], {}
    for prop, value in properties.items():
        if isinstance(value, bool | int):
            entries.append(struct.pack("<IIQ", prop << 16 | 0x0003, 6, int(value)))
        elif isinstance(value, datetime.datetime):
            ticks = (value - datetime.datetime(1601, 1, 1, tzinfo=datetime.UTC)) // (
                datetime.timedelta(microseconds=1)
            )
            entries.append(struct.pack("<IIQ", prop << 16 | 0x0040, 6, ticks * 10))
        else:
            if isinstance(value, str):
                kind = 0x001E if encoding else 0x001F
                data = value.encode(encoding) + b"\x00" if encoding else value.encode("utf-16-le")
            else:
                kind, data = 0x0102, bytes(value)  # type: ignore[call-overload]
            streams[f"{path}__substg1.0_{prop:04X}{kind:04X}"] = data
            entries.append(struct.pack("<IIII", prop << 16 | kind, 6, len(data), 0))
    streams[f"{path}__properties_version1.0"] = bytes(header) + b"".join(entries)
    return streams


def tnef_stream(message: OutlookMessage, legacy: bool = False) -> bytes:
    """A TNEF stream (winmail.dat) of ``message`` as Outlook writes one ([MS-OXTNEF]): legacy
    attributes (with ``legacy``, the subject and body only there, as old writers leave them),
    the message's MAPI properties (among them a named one of each kind, a multi-valued one and
    a boolean, which a reader must step over), its recipients, then each attachment's
    attributes: its title and bytes, and its MAPI properties; an attached message as an object
    holding a TNEF stream of its own."""
    encoding = f"cp{message.codepage}" if message.ansi else None
    stream = [b"\x78\x9f\x3e\x22", struct.pack("<H", 0x0A3B)]
    stream.append(_tnef_attribute(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000)))
    stream.append(_tnef_attribute(1, 0x9007, 0x0006, struct.pack("<II", message.codepage, 0)))
    stream.append(_tnef_attribute(1, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\x00"))
    codec = f"cp{message.codepage}"
    properties: dict[int, object] = {
        0x0039: message.sent,
        0x0C1A: message.sender[0],
        0x0C1F: message.sender[1],
        0x0057: True,  # PR_MESSAGE_TO_ME: a boolean, padded to 4 bytes
        0x3FDE: message.codepage,
    }
    if legacy:
        stream.append(_tnef_attribute(1, 0x8004, 0x0001, message.subject.encode(codec) + b"\0"))
        stream.append(_tnef_attribute(1, 0x800C, 0x0002, message.body.encode(codec)))
    else:
        properties |= (
            {0x0037: message.subject, 0x1000: message.body}
            if message.body
            else {0x0037: message.subject}
        )
    if message.html:
        properties[0x1013] = message.html.encode(codec)
    if message.rtf:
        import compressed_rtf

        properties[0x1009] = compressed_rtf.compress(message.rtf.encode("latin-1"), True)
    named = (
        # Keywords: a named property with a string name, multi-valued Unicode.
        struct.pack("<HH", 0x101F, 0x8001)
        + bytes(range(16))
        + struct.pack("<I", 1)
        + _tnef_padded("Keywords\0".encode("utf-16-le"), counted=True)
        + struct.pack("<I", 2)
        + _tnef_padded("privileged\0".encode("utf-16-le"), counted=True)
        + _tnef_padded("draft\0".encode("utf-16-le"), counted=True)
        # A named property with a number, a long.
        + struct.pack("<HH", 0x0003, 0x8002)
        + bytes(range(16, 32))
        + struct.pack("<III", 0, 0x8503, 7)
    )
    stream.append(
        _tnef_attribute(1, 0x9003, 0x0006, _tnef_properties(properties, encoding, extra=(2, named)))
    )
    rows = [
        _tnef_properties(
            {0x0C15: {"To": 1, "Cc": 2, "Bcc": 3}[field], 0x3001: name, 0x39FE: address},
            encoding,
        )
        for field, name, address in message.recipients
    ]
    if rows:
        table = struct.pack("<I", len(rows)) + b"".join(rows)
        stream.append(_tnef_attribute(1, 0x9004, 0x0006, table))
    for attachment in message.attachments:
        if isinstance(attachment, OleAttachment):
            raise TypeError("an OLE object's attachment is written in .msg files only")
        stream.append(_tnef_attribute(2, 0x9002, 0x0006, bytes(14)))  # its rendering
        if isinstance(attachment, OutlookMessage):
            inner = _IID_IMESSAGE + tnef_stream(attachment)
            described: dict[int, object] = {0x3705: 5, 0x3001: attachment.subject}
            extra = struct.pack("<HH", 0x000D, 0x3701) + struct.pack("<I", 1)
            extra += _tnef_padded(inner, counted=True)
            stream.append(
                _tnef_attribute(
                    2, 0x9005, 0x0006, _tnef_properties(described, None, extra=(1, extra))
                )
            )
            continue
        name, kind, data = attachment
        short = (name.rsplit(".", 1)[0][:8] + "." + name.rsplit(".", 1)[-1][:3]).upper()
        stream.append(_tnef_attribute(2, 0x8010, 0x0001, short.encode("ascii", "replace") + b"\0"))
        stream.append(_tnef_attribute(2, 0x800F, 0x0006, data))
        described = {0x3705: 1, 0x3707: name, 0x370E: kind}
        stream.append(_tnef_attribute(2, 0x9005, 0x0006, _tnef_properties(described, encoding)))
    return b"".join(stream)


_IID_IMESSAGE = bytes.fromhex("0703020000000000c000000000000046")


def _tnef_attribute(level: int, attribute: int, kind: int, value: bytes) -> bytes:
    header = struct.pack("<BHHI", level, attribute, kind, len(value))
    return header + value + struct.pack("<H", sum(value) & 0xFFFF)


def _tnef_padded(value: bytes, counted: bool = False) -> bytes:
    sized = struct.pack("<I", len(value)) + value if counted else value
    return sized + bytes(-len(value) % 4)


def _tnef_properties(
    properties: dict[int, object], encoding: str | None, extra: tuple[int, bytes] = (0, b"")
) -> bytes:
    """A MAPI property list: its count, then each tag and value (``extra``: a count of
    properties already written, and their bytes)."""
    count, written = extra
    parts = []
    for prop, value in properties.items():
        if isinstance(value, bool):
            parts.append(struct.pack("<HHHH", 0x000B, prop, int(value), 0))
        elif isinstance(value, int):
            parts.append(struct.pack("<HHI", 0x0003, prop, value))
        elif isinstance(value, datetime.datetime):
            ticks = (value - datetime.datetime(1601, 1, 1, tzinfo=datetime.UTC)) // (
                datetime.timedelta(microseconds=1)
            )
            parts.append(struct.pack("<HHQ", 0x0040, prop, ticks * 10))
        elif isinstance(value, str):
            kind = 0x001E if encoding else 0x001F
            data = value.encode(encoding) if encoding else value.encode("utf-16-le")
            terminator = b"\0" if encoding else b"\0\0"
            parts.append(struct.pack("<HHI", kind, prop, 1) + _tnef_padded(data + terminator, True))
        else:
            data = bytes(value)  # type: ignore[call-overload]
            parts.append(struct.pack("<HHI", 0x0102, prop, 1) + _tnef_padded(data, True))
    return struct.pack("<I", len(parts) + count) + written + b"".join(parts)


def word_97_document(
    main: str,
    stories: dict[str, str] | None = None,
    flags: int = 0,
    version: int = 0x00C1,
    pictures: int = 0,
    paragraph_properties: bool = True,
    objects: Sequence[bytes] = (),
) -> bytes:
    """A Word 97-2003 document (.doc) whose text is ``main`` and ``stories`` (by their names:
    "footnotes", "headers", "comments", "endnotes", "text boxes"), as [MS-DOC] lays text out
    (Word's control characters as they are: "\\r" ends a paragraph, "\\x07" a table cell,
    "\\x13...\\x14...\\x15" a field; and two that say what Word says in paragraph
    properties: "\\x1d" ends a table's row, stored as a cell mark, and "\\x1c" a paragraph
    within a cell, stored as "\\r").

    The text is in two pieces, the first in Windows-1252 where it can be, the second in UTF-16,
    after property runs, as Word writes them after editing. With ``paragraph_properties``,
    pages of them (PapxFkp) say which paragraphs are in a table and which end a row.
    ``flags`` are FibBase's (0x0100: encrypted); ``pictures`` bytes of a Data stream (where
    Word keeps pictures). ``objects``: the compound files of the objects the document embeds,
    in the order of the EMBED fields of ``main`` ("\\x13 EMBED Package \\x14\\x01\\x15"), each
    kept in the ObjectPool as Word keeps one, its field's separator marked as its anchor in
    the characters' properties (ChpxFkp)."""
    from docproc.extract.compound import compound_file

    order = ["footnotes", "headers", "macros", "comments", "endnotes", "text boxes"]
    stories = stories or {}
    lengths = [len(main)] + [len(stories.get(name, "")) for name in order] + [0]
    marked = main + "".join(stories.get(name, "") for name in order)
    text = marked.replace("\x1d", "\x07").replace("\x1c", "\r")
    half = len(text) // 2
    first, second = text[:half], text[half:]
    try:
        first.encode("cp1252")
    except UnicodeEncodeError:
        compressed = False
    else:
        compressed = True
    text_at = 0x800
    first_bytes = first.encode("cp1252" if compressed else "utf-16-le")
    second_at = text_at + len(first_bytes)
    # The piece table: character positions, then a piece descriptor each (where its text is).
    first_fc = (text_at * 2) | 0x40000000 if compressed else text_at
    positions = struct.pack("<3I", 0, half, len(text))
    descriptors = struct.pack("<HIH", 0, first_fc, 0) + struct.pack("<HIH", 0, second_at, 0)
    pieces = positions + descriptors
    property_runs = b"\x01" + struct.pack("<h", 3) + b"\x03\x24\x01"  # a Prc of one sprm
    clx = property_runs + b"\x02" + struct.pack("<I", len(pieces)) + pieces
    document = bytearray(text_at) + first_bytes + second.encode("utf-16-le")
    widths = [1 if compressed else 2] * half + [2] * (len(text) - half)
    offsets = [text_at + sum(widths[:half])]  # (the second piece follows the first)
    starts = [text_at + (w * i) for i, w in enumerate(widths[:half])]
    starts += [offsets[0] + 2 * i for i in range(len(text) - half)]
    papx = chpx = b""
    streams: dict[str, bytes] = {}
    if objects:
        anchors = [m.end() - 1 for m in re.finditer("\x13 EMBED [^\x14]*\x14", marked)]
        numbers = [1000 + n for n in range(len(objects))]
        document += bytes(-len(document) % 512)
        page, chpx = _chpx_page(
            [(starts[a], starts[a] + widths[a], n) for a, n in zip(anchors, numbers, strict=True)],
            text_at,
            offsets[0] + 2 * (len(text) - half),
            len(document) // 512,
        )
        document += page
        import olefile

        from docproc.extract.compound import storage_streams

        for number, compound in zip(numbers, objects, strict=True):
            with olefile.OleFileIO(io.BytesIO(compound)) as ole:
                for path, data in storage_streams(ole, "").items():
                    streams[f"ObjectPool/_{number}/{path}"] = data
    if paragraph_properties:
        paragraphs, begun = [], text_at
        for position, character in enumerate(marked):
            if character in "\r\x07\x1c\x1d":
                end = starts[position] + widths[position]
                paragraphs.append((begun, end, _WORD_PARAGRAPH_KINDS[character]))
                begun = end
        document += bytes(-len(document) % 512)
        pages, papx = _papx_pages(paragraphs, len(document) // 512)
        document += pages
    table = bytes(64) + clx + papx + chpx
    struct.pack_into("<HH", document, 0, 0xA5EC, version)
    struct.pack_into("<H", document, 0x0A, 0x0200 | flags)  # the table is 1Table
    struct.pack_into("<H", document, 32, 14)  # csw, then fibRgW
    struct.pack_into("<H", document, 62, 22)  # cslw, then fibRgLw: ccpText and the stories
    struct.pack_into("<11I", document, 64, 0, 0, 0, *lengths)
    struct.pack_into("<H", document, 152, 0x5D)  # cbRgFcLcb (Word 97), then the pairs
    struct.pack_into("<II", document, 154 + 13 * 8, 64 + len(clx), len(papx))
    struct.pack_into("<II", document, 154 + 12 * 8, 64 + len(clx) + len(papx), len(chpx))
    struct.pack_into("<II", document, 154 + 33 * 8, 64, len(clx))
    streams |= {"WordDocument": bytes(document), "1Table": table}
    if pictures:
        streams["Data"] = random.Random(pictures).randbytes(pictures)
    return compound_file(streams)


# A paragraph's end in word_97_document's text: its kind (0 outside a table, 1 in a table, 2
# the end of a row), and each kind's properties as a PapxInFkp (a size, then the style and
# the sprms: sprmPFInTable, sprmPFTtp), at its place near a page's end.
_WORD_PARAGRAPH_KINDS = {"\r": 0, "\x1c": 1, "\x07": 1, "\x1d": 2}
_WORD_PAPX = [
    (480, b"\x00\x01" + b"\x00\x00"),
    (484, b"\x03" + b"\x00\x00\x16\x24\x01"),
    (490, b"\x00\x04" + b"\x00\x00\x16\x24\x01\x17\x24\x01"),
]


def _chpx_page(
    anchors: list[tuple[int, int, int]], text_start: int, text_end: int, page_number: int
) -> tuple[bytes, bytes]:
    """A page of character properties (ChpxFkp) over the text's bytes, the characters of
    ``anchors`` ((start, end, object number)) with an object's (sprmCFSpec, sprmCFObj,
    sprmCPicLocation), the rest none; and the PlcBteChpx that finds it."""
    page = bytearray(512)
    edges, offsets, at = [text_start], [], 511
    for start, end, number in anchors:
        grpprl = b"\x55\x08\x01" + b"\x56\x08\x01" + b"\x03\x6a" + struct.pack("<I", number)
        at -= len(grpprl) + 1
        at -= at % 2
        page[at] = len(grpprl)
        page[at + 1 : at + 1 + len(grpprl)] = grpprl
        if start > edges[-1]:
            edges.append(start)
            offsets.append(0)
        edges.append(end)
        offsets.append(at // 2)
    if text_end > edges[-1]:
        edges.append(text_end)
        offsets.append(0)
    struct.pack_into(f"<{len(edges)}I", page, 0, *edges)
    page[4 * len(edges) : 4 * len(edges) + len(offsets)] = bytes(offsets)
    page[511] = len(offsets)
    return bytes(page), struct.pack("<3I", text_start, text_end, page_number)


def _papx_pages(paragraphs: list[tuple[int, int, int]], first_page: int) -> tuple[bytes, bytes]:
    """Pages of paragraph properties (PapxFkp) for ``paragraphs`` ((start, end, kind), where
    their text is), and the PlcBtePapx that finds them, if the pages start at ``first_page``."""
    pages, bounds, numbers = b"", [], []
    for at in range(0, len(paragraphs), 28):  # what fits beside the properties
        run = paragraphs[at : at + 28]
        page = bytearray(512)
        edges = [start for start, _, _ in run] + [run[-1][1]]
        struct.pack_into(f"<{len(edges)}I", page, 0, *edges)
        for number, (_, _, kind) in enumerate(run):
            page[4 * len(edges) + 13 * number] = _WORD_PAPX[kind][0] // 2
        for offset, papx in _WORD_PAPX:
            page[offset : offset + len(papx)] = papx
        page[511] = len(run)
        bounds.append(run[0][0])
        numbers.append(first_page + at // 28)
        pages += bytes(page)
    bounds.append(paragraphs[-1][1] if paragraphs else 0)
    plc = struct.pack(f"<{len(bounds)}I", *bounds) + struct.pack(f"<{len(numbers)}I", *numbers)
    return pages, plc if numbers else b""


def powerpoint_97(
    slides: Sequence[Slide],
    encrypted: bool = False,
    edited: str = "",
    objects: Sequence[tuple[int, float, float, bytes]] = (),
) -> bytes:
    """A PowerPoint 97-2003 presentation (.ppt) of ``slides`` (their title, boxes at (top,
    left) in inches and notes), its records where [MS-PPT] puts them: each title in the
    document's slide list (as PowerPoint stores placeholders' text), each box a shape with
    its anchor and text in the slide's drawing, the notes in a notes page's drawing. With
    ``edited``, a second edit (a fast save) gives the first slide that title: the document and
    the slide are written again after the first edit, their first versions left in the file.
    ``objects``: (slide number, top, left, compound file) of objects embedded as PowerPoint
    embeds them: each a shape naming it by its id, listed in the document with the persist id
    of its storage's record (compressed with zlib, as PowerPoint writes it)."""
    from docproc.extract.compound import compound_file

    document, records = _ppt_records(slides, objects)
    stream = bytearray()
    offsets = []
    for record in [document, *records]:
        offsets.append(len(stream))
        stream += record
    edit = _ppt_edit(stream, 1, offsets, previous=0)
    if edited:
        revised = [dataclasses.replace(slides[0], title=edited), *slides[1:]]
        document, records = _ppt_records(revised)
        offsets = [len(stream), len(stream) + len(document)]
        stream += document + records[0]
        edit = _ppt_edit(stream, 1, offsets, previous=edit)
    token = 0xF3D1C4DF if encrypted else 0xE391C05F
    current_user = _ppt_record(0x0FF6, struct.pack("<IIIHHHBBH", 20, token, edit, 0, 0, 0, 3, 0, 0))
    return compound_file({"Current User": current_user, "PowerPoint Document": bytes(stream)})


def _ppt_records(
    slides: Sequence[Slide], objects: Sequence[tuple[int, float, float, bytes]] = ()
) -> tuple[bytes, list[bytes]]:
    """The document record (persist id 1), and the slides' then the notes pages' records
    (persist ids from 2), then the embedded objects' storages."""
    count = len(slides)
    listed, notes_listed = b"", b""
    records: list[bytes] = []
    for number, content in enumerate(slides):
        slide_id, notes_id = 256 + number, 512 + number
        listed += _ppt_record(0x03F3, struct.pack("<5I", 2 + number, 0, 1, slide_id, 0))
        listed += _ppt_text(content.title, 0)
        shapes = [_ppt_shape(text, top, left) for text, top, left in content.boxes]
        shapes += [
            _ppt_object_shape(object_id, top, left)
            for object_id, (slide, top, left, _) in enumerate(objects, start=1)
            if slide == number + 1
        ]
        records.append(_ppt_slide(shapes, notes_id if content.notes else 0))
        if content.notes:
            persist = 2 + count + number
            notes_listed += _ppt_record(0x03F3, struct.pack("<5I", persist, 0, 0, notes_id, 0))
    for content in slides:
        records.append(_ppt_container(0x03F0, _ppt_drawing([_ppt_shape(content.notes, 1, 1)])))
    embedded = b""
    for object_id, (_, _, _, compound) in enumerate(objects, start=1):
        persist = 2 + 2 * count + object_id - 1
        atom = struct.pack("<6I", 1, 0, object_id, 0, persist, 0)
        embedded += _ppt_container(0x0FCC, _ppt_record(0x0FC3, atom, version=1))
        packed = struct.pack("<I", len(compound)) + zlib.compress(compound)
        records.append(_ppt_record(0x1011, packed, instance=1))
    lists = _ppt_container(0x0FF0, listed, 0) + _ppt_container(0x0FF0, notes_listed, 2)
    object_list = _ppt_container(0x0409, embedded) if objects else b""
    return _ppt_container(0x03E8, object_list + lists), records


def _ppt_record(kind: int, body: bytes, instance: int = 0, version: int = 0) -> bytes:
    return struct.pack("<HHI", instance << 4 | version, kind, len(body)) + body


def _ppt_container(kind: int, body: bytes, instance: int = 0) -> bytes:
    return _ppt_record(kind, body, instance, 0xF)


def _ppt_text(text: str, text_type: int) -> bytes:
    """A TextHeaderAtom and the text: in bytes where it is Latin-1, else in UTF-16."""
    header = _ppt_record(0x0F9F, struct.pack("<I", text_type))
    try:
        return header + _ppt_record(0x0FA8, text.replace("\n", "\r").encode("latin-1"))
    except UnicodeEncodeError:
        return header + _ppt_record(0x0FA0, text.replace("\n", "\r").encode("utf-16-le"))


def _ppt_shape(text: str, top: float, left: float) -> bytes:
    """A shape with its anchor (master units: 576 an inch) and its text in a client text box."""
    anchor = _ppt_record(0xF010, struct.pack("<4h", int(top * 576), int(left * 576), 0, 0))
    return _ppt_container(0xF004, anchor + _ppt_container(0xF00D, _ppt_text(text, 4)))


def _ppt_object_shape(object_id: int, top: float, left: float) -> bytes:
    """A shape showing the embedded object ``object_id``: its anchor, and its client data
    naming the object (ExObjRefAtom)."""
    anchor = _ppt_record(0xF010, struct.pack("<4h", int(top * 576), int(left * 576), 0, 0))
    named = _ppt_container(0xF011, _ppt_record(0x0BC1, struct.pack("<I", object_id)))
    return _ppt_container(0xF004, anchor + named)


def _ppt_drawing(shapes: list[bytes]) -> bytes:
    """A PPDrawing: OfficeArt's drawing and its group of shapes."""
    group = _ppt_container(0xF003, b"".join(shapes))
    return _ppt_container(0x040C, _ppt_container(0xF002, group))


def _ppt_slide(shapes: list[bytes], notes_id: int) -> bytes:
    atom = _ppt_record(0x03EF, struct.pack("<I8sIIHH", 0, bytes(8), 0x80000000, notes_id, 0, 0))
    return _ppt_container(0x03EE, atom + _ppt_drawing(shapes))


def _ppt_edit(stream: bytearray, first: int, offsets: list[int], previous: int) -> int:
    """A persist directory of ``offsets`` (persist ids from ``first``) and the UserEditAtom
    that names it, appended to ``stream``; where the edit is."""
    directory = len(stream)
    entry = first | len(offsets) << 20
    stream += _ppt_record(0x1772, struct.pack(f"<I{len(offsets)}I", entry, *offsets))
    edit = len(stream)
    body = struct.pack("<IHBBIIIIHH", 0, 0, 0, 3, previous, directory, 1, 100, 1, 0)
    stream += _ppt_record(0x0FF5, body)
    return edit


def zip_with_method(data: bytes, name: str, method: int) -> bytes:
    """The archive with ``name``'s compression method changed in both its headers."""
    patched = bytearray(data)
    for offset, local in _headers_naming(data, name):
        at = offset + (8 if local else 10)
        patched[at : at + 2] = struct.pack("<H", method)
    return bytes(patched)


def deflate64_zip(files: dict[str, bytes]) -> bytes:
    """A ZIP of ``files`` compressed with Deflate64 (nothing here writes one): each stored as
    its compressed bytes, then its method, CRC and sizes set in both its headers."""
    import inflate64

    archive = io.BytesIO()
    packed = {}
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        for name, content in files.items():
            deflater = inflate64.Deflater()
            packed[name] = deflater.deflate(content) + deflater.flush()
            zipped.writestr(name, packed[name])
    data = bytearray(archive.getvalue())
    for name, content in files.items():
        sizes = struct.pack("<III", zipfile.crc32(content), len(packed[name]), len(content))
        for offset, local in _headers_naming(bytes(data), name):
            method_at, sizes_at = (offset + 8, offset + 14) if local else (offset + 10, offset + 16)
            data[method_at : method_at + 2] = struct.pack("<H", 9)
            data[sizes_at : sizes_at + 12] = sizes
    return bytes(data)


def zip_of_raw_names(files: dict[bytes, bytes]) -> bytes:
    """A ZIP whose files' names are these bytes as they are, without the UTF-8 flag (as old
    tools write CP437, and Linux's zip UTF-8, without saying which)."""
    placeholders = {f"{n:0{len(raw)}d}": raw for n, raw in enumerate(files)}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for placeholder, content in zip(placeholders, files.values(), strict=True):
            zipped.writestr(placeholder, content)
    data = bytearray(archive.getvalue())
    for placeholder, raw in placeholders.items():
        for offset, local in _headers_naming(bytes(data), placeholder):
            at = offset + (30 if local else 46)
            data[at : at + len(raw)] = raw
    return bytes(data)


def _headers_naming(data: bytes, name: str) -> list[tuple[int, bool]]:
    """Where the local headers and central directory entries naming ``name`` begin, each
    with whether it is a local header."""
    encoded, found = name.encode(), []
    for signature, name_at, local in ((b"PK\x03\x04", 30, True), (b"PK\x01\x02", 46, False)):
        offset = 0
        while (offset := data.find(signature, offset)) != -1:
            if data[offset + name_at : offset + name_at + len(encoded)] == encoded:
                found.append((offset, local))
            offset += 4
    return found
