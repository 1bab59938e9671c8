quant labels --horizon abc
