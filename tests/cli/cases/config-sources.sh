# Where each setting comes from: --home beats QUANT_HOME, the environment
# beats quant.conf, quant.conf beats the default; the API key from quant.conf
# is shown masked (its last two characters only), and never leaks to stderr.
mkdir conf-home
cat > conf-home/quant.conf <<'CONF'
# settings for this case
daily_budget = 7
http_retries = 9
alphavantage_api_key = SECRETKEY42XYZ
CONF
QUANT_HTTP_RETRIES=4 quant --home conf-home config
