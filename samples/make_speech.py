"""Regenerate samples/speech/*.flac: sentences spoken by Debian's flite (voice "rms"), the
test speech for the offline transcriber (pocketsphinx recognises flite's voices well; espeak-ng's
poorly). Needs `apt-get install flite`; the FLAC files are committed so tests do not.

    python samples/make_speech.py
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import av

HERE = Path(__file__).parent / "speech"
SENTENCES = [
    "The tenant shall pay the security deposit before the lease begins.",
    "The landlord will return the deposit within thirty days after the tenant moves out.",
    "Either party may terminate this agreement with sixty days written notice.",
    "The witness stated that she saw the defendant leave the building at nine o'clock.",
    "The court will hear the motion to dismiss next Tuesday morning.",
    "Counsel for the plaintiff asked the jury to consider the medical records.",
    "The contract requires the seller to deliver the goods by the end of March.",
    "The judge asked both parties to submit their final arguments in writing.",
    "The insurance company denied the claim because the policy had expired.",
    "The defendant agreed to pay the full amount in twelve monthly installments.",
]


def main() -> None:
    HERE.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        for number, sentence in enumerate(SENTENCES, start=1):
            wav = Path(folder) / f"{number}.wav"
            subprocess.run(["flite", "-voice", "rms", "-t", sentence, "-o", str(wav)], check=True)
            with av.open(str(wav)) as source, av.open(str(HERE / f"{number:02d}.flac"), "w") as out:
                stream = out.add_stream("flac", rate=16000, layout="mono")
                resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
                for frame in source.decode(audio=0):
                    for converted in resampler.resample(frame):
                        out.mux(stream.encode(converted))
                out.mux(stream.encode(None))
    (HERE / "sentences.json").write_text(json.dumps(SENTENCES, indent=1) + "\n")


if __name__ == "__main__":
    main()
