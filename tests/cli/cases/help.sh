quant --help
