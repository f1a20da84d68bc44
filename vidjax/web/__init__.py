"""The web page: upload a video, then classify it with a trained run (the predict path) or stylise it (vidjax.style).

`python -m vidjax.web --workdir=runs/csn --port=8765` serves it on 127.0.0.1 only. app.py holds the routes and the
checks on uploads; jobs.py runs one job at a time in a worker thread and owns the temporary files; page.html,
page.js and page.css are the page (no external resources: it works offline).
"""
