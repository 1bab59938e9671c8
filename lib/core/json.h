/*
 * json.h: the cJSON habits libquant repeats, written once (internal to the
 * library).  Numbers that are not finite are JSON null both ways: cJSON would
 * print NaN as null anyway, and a null read back is NAN.
 */
#ifndef QUANT_CORE_JSON_H
#define QUANT_CORE_JSON_H

#include <cjson/cJSON.h>

/* Add key: v, or key: null when v is not finite; NULL when out of memory. */
cJSON *quant_json_add_num(cJSON *o, const char *key, double v);

/* The number at key, NAN when absent, null or not a number. */
double quant_json_num(const cJSON *o, const char *key);

#endif
