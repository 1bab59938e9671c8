/* test_lightgbm.c: the lightgbm backend of model.h learns, generalises no better than
 * chance on noise, is deterministic, round-trips through its file format,
 * stops early, refuses bad params and accepts missing values (shared cases in
 * model_testkit.c). */
#include "test_util.h"

#define TK_ALGO "lightgbm"
#include "model_testkit.c"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* LSan exits without flushing */
    const struct CMUnitTest tests[] = {TK_TESTS};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
