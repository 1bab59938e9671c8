/*
 * banned.h: functions quant's own code must not call (after git's banned.h).
 *
 * Include it LAST in every lib/ and cli/ .c file, after system headers, so the
 * poison only applies to our code.  Each has a checked replacement:
 * sprintf/strcpy/strcat -> snprintf; atoi/atof -> strtol/strtod with end checks;
 * strtok -> strtok_r or a hand scanner; localtime/gmtime -> gmtime_r (UTC only).
 */
#ifndef QUANT_BANNED_H
#define QUANT_BANNED_H

#pragma GCC poison sprintf vsprintf strcpy strcat gets atoi atol atof strtok localtime gmtime

#endif
