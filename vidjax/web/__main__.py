"""Serve the web page on 127.0.0.1.

    python -m vidjax.web --workdir=runs/csn --port=8765     # then open http://127.0.0.1:8765

Classifying needs a trained run (--workdir); stylising needs converted weights (--vgg and style images in --styles
for Gatys, --generators for CycleGAN). The page says what is missing and the command that makes it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from vidjax import host_memory
from vidjax.web.app import WebSettings, create_app


def main(argv: list[str] | None = None) -> None:
  d = WebSettings()
  ap = argparse.ArgumentParser(prog="python -m vidjax.web", description=__doc__.split("\n\n")[0],
                               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  ap.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1")
  ap.add_argument("--workdir", default=d.workdir, help="a trained run, for classification")
  ap.add_argument("--checkpoint", default=d.checkpoint, help="latest, best or a step number")
  ap.add_argument("--vgg", default=d.vgg, help="converted VGG-19 weights (python -m vidjax.weights --arch vgg19)")
  ap.add_argument("--styles", default=d.styles, help="folder of style images (PNG/JPEG) for Gatys")
  ap.add_argument("--generators", default=d.generators,
                  help="folder of converted CycleGAN generators, one sub-folder each (or one generator's folder)")
  ap.add_argument("--max_upload_mb", type=int, default=d.max_upload_mb)
  ap.add_argument("--max_frames", type=int, default=d.max_frames, help="longest video the page stylises")
  a = ap.parse_args(argv)
  host_memory.keep_freed_memory()  # before JAX's CPU backend starts
  if not 0 < a.port < 65536:
    ap.error(f"--port={a.port} is not a port number")
  settings = WebSettings(workdir=a.workdir, checkpoint=a.checkpoint, vgg=a.vgg, styles=a.styles,
                         generators=a.generators, max_upload_mb=a.max_upload_mb, max_frames=a.max_frames,
                         port=a.port)
  import waitress

  app, runner = create_app(settings)
  logging.getLogger("waitress").setLevel(logging.ERROR)
  try:
    server = waitress.create_server(app, host="127.0.0.1", port=a.port, threads=4,
                                    max_request_body_size=(a.max_upload_mb + 2) * 2**20)
  except OSError as e:
    runner.close()
    sys.exit(f"vidjax.web: cannot listen on 127.0.0.1:{a.port} ({e.strerror}); choose another --port")
  signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill` cleans up as Ctrl+C does
  print(f"Serving vidjax on http://127.0.0.1:{a.port} (Ctrl+C to stop)", flush=True)
  try:
    server.run()
  except KeyboardInterrupt:
    pass
  finally:
    server.close()
    runner.close()  # the job folder and every upload and output in it


if __name__ == "__main__":
  main()
