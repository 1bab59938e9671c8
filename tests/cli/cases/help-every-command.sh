# `quant CMD --help` for every command `quant --help` lists, so a new command
# is covered (and this case fails until its help is reviewed) without a new file.
for cmd in $(quant --help | sed -n "/^Commands:/,/^\$/s/^  \([a-z-]*\) .*/\1/p"); do
    echo "==> quant $cmd --help"
    quant "$cmd" --help
done
