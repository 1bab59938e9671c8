# Each mistake on the universe command line is refused with exit 2 before any
# store is opened (ls shows the home still empty at the end).
try() {
    echo "\$ quant $*"
    echo "\$ quant $*" >&2
    quant "$@" || echo "exit $?"
}
try universe
try universe frob
try universe add sp-demo
try universe add --members m.tsv
try universe add "sp demo" --members m.tsv
try universe add -sp --members m.tsv
try universe add sp-demo other --members m.tsv
try universe add sp-demo --members
try universe show sp-demo --date 2024-02-30
try universe show sp-demo --date 20240102
try universe list extra
try universe remove
try universe list --frob
ls -A
