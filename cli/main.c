/* placeholder until the command table lands */
int main(void) { return 0; }
