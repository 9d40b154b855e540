/*
 * main/ledger_cmd: `hpf ledger`, the fund's books from the operator's command line (chart load and
 * show, trial balance, reversal; service/accounts.h). Kept apart from main.c, which only lists
 * it in its command table.
 */
#ifndef HPF_MAIN_LEDGER_CMD_H
#define HPF_MAIN_LEDGER_CMD_H

/* Run `hpf ledger ...` (argv[0] is "ledger"). Exit codes as every command: 0 ok, 1 failure,
 * 2 bad usage or input. */
int hpf_cmd_ledger(int argc, char **argv);
/* `hpf job interest --year Y`: the annual interest settlement. */
int hpf_cmd_job(int argc, char **argv);

#endif
