"""Excel workbooks for scripts/bench/xlsx.sh: make the flights workbook,
and time pandas reading it.

  make CSV XLSX ROWS   write the first ROWS rows of CSV (the flights CSV
                       that `go run ./scripts/fixtures -full-csv` writes)
                       to XLSX with openpyxl: one worksheet, the dates as
                       Excel dates shown yyyy-mm-dd hh:mm, the delay and
                       distance as numbers, the airports as text
  read XLSX RUNS       time pandas.read_excel(XLSX) (openpyxl, pandas'
                       engine for .xlsx) RUNS times in one process with
                       time.perf_counter; print one JSON object

Use Debian's python3 with python3-pandas and python3-openpyxl.
"""
import csv
import datetime
import json
import sys
import time


def make(src, out, rows):
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("flights")
    with open(src, newline="") as f:
        r = csv.reader(f)
        ws.append(next(r))
        for k, row in enumerate(r):
            if k == rows:
                break
            date = WriteOnlyCell(ws, value=datetime.datetime.fromisoformat(row[0]))
            date.number_format = "yyyy-mm-dd hh:mm"
            ws.append([date, int(row[1]), int(row[2]), row[3], row[4]])
    wb.save(out)


def read(path, runs):
    import pandas as pd

    times, shape = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        df = pd.read_excel(path)
        times.append(time.perf_counter() - t0)
        shape = df.shape
    times.sort()
    json.dump({"pandas": pd.__version__, "call": "pandas.read_excel(path)", "runs": times,
               "median_s": times[len(times) // 2], "rows": shape[0], "columns": shape[1],
               "date_dtype": str(df.dtypes.iloc[0])}, sys.stdout)
    print()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 4 and sys.argv[1] == "read":
        read(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)
