// main only wires: everything is in app/.
#include "app/cli.h"

int main(int argc, char** argv) { return muster::app::RunCli(argc, argv); }
