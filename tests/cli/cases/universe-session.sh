# A small universe session with fixed dates: one symbol has bars (so the
# warning names only the others), a symbol with two intervals and a gap, one
# merged line, a one-day interval; add, list, show (all, on a day, as JSON),
# the refusals (an existing name, a bad file with --replace, which leaves the
# stored universe as it was), replace and remove.
cat > bars.csv <<'CSV'
symbol,date,open,high,low,close,volume
AAA,2024-01-02,10,11,9,10.5,1000
AAA,2024-01-03,10.5,11.2,9,11,1200
CSV
printf '# demo universe\nAAA\t2020-01-02\t2020-06-30\nAAA\t2021-01-04\t2024-12-31\r\nbbb 2020-01-02 2024-12-31\n\nCCC\t2020-03-02\t2020-03-02\nAAA\t2020-06-15\t2020-07-10\n' > members.tsv
printf 'AAA\t2020-01-02\t2020-06-30\nBBB\t2020-01-02\n' > broken.tsv
printf 'AAA\t2022-01-03\t2024-12-31\nDDD\t2022-01-03\t2023-06-30\n' > newer.tsv
step() {
    echo "\$ quant $*"
    echo "\$ quant $*" >&2
    quant "$@" || echo "exit $?"
}
step ingest --csv bars.csv
step universe add sp-demo --members members.tsv
step universe list
step universe show sp-demo
step universe show sp-demo --date 2020-03-02
step universe show sp-demo --date 2020-09-01 --json
step universe show sp-demo --date 2019-12-31
step universe add sp-demo --members newer.tsv
step universe add sp-demo --members broken.tsv --replace
step universe show SP-DEMO --date 2020-07-10
step universe add sp-demo --members newer.tsv --replace
step universe list --json
step universe remove sp-demo
step universe remove sp-demo
step universe list
