// The alexnet subcommands. Each takes the arguments after its name and returns the exit status;
// bad user input is thrown as UserError (main prints it and exits with 2).
#pragma once

namespace alexnet::cli {

int info(int argc, char** argv);
int pack(int argc, char** argv);
int train(int argc, char** argv);
int eval(int argc, char** argv);
int time(int argc, char** argv);
int launch(int argc, char** argv);
int show(int argc, char** argv);

}  // namespace alexnet::cli
