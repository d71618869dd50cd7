"""Page benchmark for Accord: `make bench` (or `python -m bench`).

Seeds one large and one small partnership in a throwaway PostgreSQL database, then compares
query counts (small vs large: an N+1 shows as a difference) and in-process latency of the
dashboard, partner list and audit log against bare views running the same essential queries.
Then (bench/protocols.py) a protocol of about 40 pages signed by 40 partners: its signed-PDF
build against raw WeasyPrint, a repeat download from storage and its signatories page.
Figures go to bench/results/latest.json. Not a test module: pytest collects tests/ only.
"""
