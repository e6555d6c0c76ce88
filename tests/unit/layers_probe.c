/* An executable that links exactly one library (and what that library's CMake target brings
 * with it): test_layers reads its NEEDED entries, so a library whose target drags in NATS or
 * libpq fails the test even when none of its own code calls them. */
int main(void)
{
    return 0;
}
