/* hello-c: pyko's sample for prebuilt static binaries (cc -static hello.c).
 * Prints its user and checks the base's /etc/passwd has the nonroot account,
 * so running it in an image shows both are as they should be. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    FILE *f = fopen("/etc/passwd", "r");
    char line[256];
    int found = 0;
    printf("Hello from C! uid=%d gid=%d\n", (int)getuid(), (int)getgid());
    if (f) {
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "nonroot:x:65532:", 16) == 0)
                found = 1;
        fclose(f);
    }
    printf("passwd: %s\n", found ? "has nonroot" : "FAIL no nonroot entry");
    return found ? 0 : 1;
}
