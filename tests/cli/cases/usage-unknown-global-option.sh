# a mistyped option's value is not echoed: it may be a URL with a password
quant --meta-ur=postgresql://u:Secret-pw-1@h/db status || echo "exit $?"
quant --frob status
