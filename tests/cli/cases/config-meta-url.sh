# The metadata store's URL: --meta-url beats QUANT_META_URL beats quant.conf;
# a password in it is shown as **** by `quant config` (table and JSON) and
# never printed anywhere else; a scheme quant does not know is refused.
cat > quant.conf <<'CONF'
meta_url = sqlite:///from-conf.sqlite
CONF
quant config --json | grep -o '"meta_url"[^}]*'
QUANT_META_URL='postgresql://alice:S3cr3t-Pw-99@db.example:5433/quant?sslmode=require' \
    quant config | grep -E '^(setting|meta_url)'
QUANT_META_URL=sqlite:///env.sqlite quant --meta-url 'postgres://bob:hunter22xx@h/db' config \
    | grep '^meta_url'
quant --meta-url mysql://x/y symbols list || echo "exit $?"
quant --meta-url sqlite:///flag.sqlite init-db | grep metadata
ls flag.sqlite
