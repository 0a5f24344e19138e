"""docproc: streaming, resumable ingestion of large documents into a vector store."""

__version__ = "0.1.0"
