# A small research session on a CSV the case writes: two symbols with fixed
# dates (2024), one bad row (high below close) whose warning text is pinned.
# Each step is echoed so the expected stdout reads like a terminal.
cat > bars.csv <<'CSV'
symbol,date,open,high,low,close,volume
AAA,2024-01-02,10,11,9,10.5,1000
AAA,2024-01-03,10.5,10.6,9,11,1200
AAA,2024-01-04,11,12,10,11.5,900
AAA,2024-01-05,11.5,12,11,11.8,950
AAA,2024-01-08,11.8,12.5,11.5,12.2,1100
AAA,2024-01-09,12.2,12.4,11.9,12.0,1000
AAA,2024-01-10,12,12.3,11.7,11.9,980
BBB,2024-01-02,20,21,19,20.5,500
BBB,2024-01-03,20.5,21,20,20.8,520
BBB,2024-01-04,20.8,21.5,20.1,21.2,530
BBB,2024-01-05,21.2,21.6,20.9,21.0,510
BBB,2024-01-08,21,21.3,20.5,20.7,490
BBB,2024-01-09,20.7,21,20.2,20.9,505
BBB,2024-01-10,20.9,21.4,20.6,21.3,515
CSV
step() {
    echo "\$ quant $*"
    echo "\$ quant $*" >&2
    quant "$@"
}
step ingest --csv bars.csv
step status
step sql "SELECT symbol, count(*) FROM ohlcv GROUP BY 1 ORDER BY 1"
step features --set tech-v1 --symbols AAA BBB
step labels --symbols AAA,BBB --horizon 2
step symbols list
step status
step sql "SELECT date, horizon, round(fwd_return, 6) AS fwd_return, label FROM labels WHERE symbol = 'BBB' ORDER BY date"
