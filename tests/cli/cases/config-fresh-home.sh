# Every setting on a fresh home: its value and where it came from.
quant config
