#include "domain/surplus.h"

#include <string.h>

static int bad(hpf_err *err, const char *field, const char *what)
{
    return hpf_err_field(err, HPF_EINVAL, field, "surplus.input", "%s", what);
}

int hpf_surplus_distribute(hpf_surplus_out *out, const hpf_surplus_in *in, hpf_err *err)
{
    if (in->income < 0 || in->income > HPF_MONEY_MAX)
        return bad(err, "/income", "income is 0 .. 100,000,000,000.00");
    if (in->expense < 0 || in->expense > HPF_MONEY_MAX)
        return bad(err, "/expense", "expense is 0 .. 100,000,000,000.00");
    if (in->reserve_bp < 0 || in->reserve_bp > 10000)
        return bad(err, "/reserve_bp", "the reserve share is 0 .. 10000 basis points");
    if (in->loans < 0 || in->loans > HPF_MONEY_MAX || in->reserve < 0 ||
        in->reserve > HPF_MONEY_MAX)
        return bad(err, "/loans", "loans and reserve are 0 .. 100,000,000,000.00");
    if (in->management < 0 || in->management > HPF_MONEY_MAX)
        return bad(err, "/management", "the management budget is 0 .. 100,000,000,000.00");
    if (in->rule != HPF_SURPLUS_TOP_UP && in->rule != HPF_SURPLUS_PCT_OF_VAI)
        return bad(err, "/rule", "the reserve rule is top-up or share of the value-added income");
    hpf_surplus_out o;
    memset(&o, 0, sizeof o);
    o.value_added = in->income - in->expense; /* both within 0..HPF_MONEY_MAX */
    if (o.value_added <= 0) {
        *out = o;
        return 0;
    }
    hpf_fen want;
    if (in->rule == HPF_SURPLUS_TOP_UP) {
        hpf_fen target;
        if (hpf_money_muldiv(&target, in->loans, in->reserve_bp, 10000) < 0)
            return hpf_err_set(err, HPF_EOVERFLOW, "reserve target out of range");
        want = target > in->reserve ? target - in->reserve : 0;
    } else if (hpf_money_muldiv(&want, o.value_added, in->reserve_bp, 10000) < 0) {
        return hpf_err_set(err, HPF_EOVERFLOW, "reserve share out of range");
    }
    hpf_fen left = o.value_added;
    o.to_reserve = want < left ? want : left;
    left -= o.to_reserve;
    o.to_management = in->management < left ? in->management : left;
    o.to_rental = left - o.to_management;
    *out = o;
    return 0;
}
