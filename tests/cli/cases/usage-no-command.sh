# No command: the help goes to stderr and the exit code says "bad command line".
quant
