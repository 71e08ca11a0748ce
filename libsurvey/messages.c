/* The message catalogue (survey/messages.h): one row per message, English
 * then Chinese.  Keep the rows in the order of svy_msg_id. */
#include "svy_private.h"

#include <stdarg.h>
#include <survey/messages.h>

static const char *const catalogue[SVY_MSG_COUNT_][2] = {
    [SVY_MSG_TAB_DESIGN] = {"Design: {1}; {2}. Variance: {3}. ", "抽样设计：{1}；{2}。方差估计：{3}。"},
    [SVY_MSG_TAB_ROLE_STRATA] = {"strata {1}", "分层变量 {1}"},
    [SVY_MSG_TAB_ROLE_PSU] = {"PSU {1}", "初级抽样单位 {1}"},
    [SVY_MSG_TAB_ROLE_WEIGHT] = {"weight {1}", "权重 {1}"},
    [SVY_MSG_TAB_ROLE_FPC] = {"fpc {1}", "有限总体校正 {1}"},
    [SVY_MSG_TAB_LIST_SEP] = {", ", "，"},
    [SVY_MSG_TAB_PERCENT] = {"Proportions in percent. ", "比例以百分比表示。"},
    [SVY_MSG_TAB_CI] = {"{1}% CI: {2} (means and totals: Wald).", "{1}% 置信区间：{2}（均值和总量：Wald 法）。"},
    [SVY_MSG_TAB_CI_LOGIT] = {"logit", "logit 法"},
    [SVY_MSG_TAB_CI_WALD] = {"Wald", "Wald 法"},
    [SVY_MSG_TAB_CI_BETA] = {"Korn-Graubard (beta)", "Korn-Graubard 法（beta）"},
    [SVY_MSG_TAB_CI_WILSON] = {"Wilson", "Wilson 法"},
    [SVY_MSG_TAB_DF] = {" Degrees of freedom: {1}.", "自由度：{1}。"},
    [SVY_MSG_TAB_DF_DOMAIN] = {"PSUs minus strata with members of the domain",
                               "含该子总体成员的初级抽样单位数减层数"},
    [SVY_MSG_TAB_DF_FULL] = {"PSUs minus strata of the whole design", "全样本的初级抽样单位数减层数"},
    [SVY_MSG_TAB_DF_INF] = {"infinite (normal quantiles)", "无穷大（正态分位数）"},
    [SVY_MSG_TAB_LONELY] = {" Lonely PSU: {1}.", "只有一个初级抽样单位的层：{1}。"},
    [SVY_MSG_TAB_LONELY_FAIL] = {"fail", "报错"},
    [SVY_MSG_TAB_LONELY_REMOVE] = {"remove", "不计入方差"},
    [SVY_MSG_TAB_LONELY_CERTAINTY] = {"certainty", "视为必选单位"},
    [SVY_MSG_TAB_LONELY_ADJUST] = {"adjust", "调整（单个单位以 0 为中心，同 R）"},
    [SVY_MSG_TAB_LONELY_AVERAGE] = {"average", "取其他层的平均"},
    [SVY_MSG_TAB_FLAG_NOTE] = {" * does not meet the NCHS standards for proportions (suppress); "
                               "\xe2\x80\xa0 fewer than 8 degrees of freedom (review).",
                               "* 不符合 NCHS 比例估计发布标准（不宜发布）；\xe2\x80\xa0 自由度少于 8（需复核）。"},
    [SVY_MSG_TAB_TOTAL] = {"Total", "合计"},
    [SVY_MSG_TAB_FINAL_WEIGHT_NOTE] = {" Weight {1}: the final weight in the input (svy-weight), used instead of "
                                       "the codebook's design weight {2}.",
                                       "权重 {1}：输入数据中的最终权重（svy-weight），代替编码本的设计权重 {2}。"},
    [SVY_MSG_TAB_SUBPOP_NOTE] = {" Subpopulation: {1} (rows in: {2} of {3}; the variance uses the whole design, "
                                 "as R's subset()).",
                                 "子总体：{1}（子总体内 {2} 行，共 {3} 行；方差使用整个设计，同 R 的 subset()）。"},
    [SVY_MSG_TAB_QUANTILE_NOTE] = {" Quantiles: R's svyquantile (qrule \"math\": the smallest value whose weighted "
                                   "CDF reaches p), on the rows with a value; CI: Woodruff's (\"mean\"), the CDF at "
                                   "the estimate plus and minus t times its SE, mapped back; SE = CI width / (2 t).",
                                   "分位数：同 R 的 svyquantile（qrule \"math\"：加权累积分布达到 p 的最小值），"
                                   "用有值的行；置信区间：Woodruff 法（\"mean\"），估计值处累积分布加减 t 倍标准误后反推；"
                                   "标准误 = 区间宽度 / (2t)。"},
    [SVY_MSG_PLOT_PERCENT] = {"Percent", "百分比"},
    [SVY_MSG_PLOT_PROPORTION] = {"Proportion", "比例"},
    [SVY_MSG_PLOT_BY_FIRST] = {" by ", "，按"},
    [SVY_MSG_PLOT_BY_LAST] = {" and ", "和"},
    [SVY_MSG_PLOT_BY_SEP] = {", ", "、"},
    [SVY_MSG_PLOT_WITH_CI] = {", with confidence intervals", "分组，含置信区间"},
    [SVY_MSG_PLOT_OUTCOME] = {"outcome", "指标"},
    [SVY_MSG_PLOT_ALL] = {"All", "全部"},
    [SVY_MSG_PLOT_CI] = {"Confidence interval", "置信区间"},
    [SVY_MSG_PLOT_HOLLOW] = {"Hollow: ", "空心："},
    [SVY_MSG_PLOT_HATCHED] = {"Hatched: ", "斜线："},
    [SVY_MSG_PLOT_UNRELIABLE] = {"unreliable estimate (flagged), interpret with caution",
                                 "估计值不可靠（已标记），解读需谨慎"},
    [SVY_MSG_PLOT_UNRELIABLE_FLAG] = {"unreliable estimate (flag: {1}), interpret with caution",
                                      "估计值不可靠（标记：{1}），解读需谨慎"},
    [SVY_MSG_PLOT_DESC_DOT] = {"Dot chart of {1} with confidence intervals", "{1}点图，含置信区间"},
    [SVY_MSG_PLOT_DESC_BAR] = {"Bar chart of {1} with confidence intervals", "{1}条形图，含置信区间"},
    [SVY_MSG_PLOT_PERCENTAGES] = {"percentages", "百分比"},
    [SVY_MSG_PLOT_PROPORTIONS] = {"proportions", "比例"},
    [SVY_MSG_PLOT_DESC_BY] = {" by {1}", "，按{1}"},
    [SVY_MSG_PLOT_DESC_COLOR] = {", coloured by {1}", "，颜色表示{1}"},
    [SVY_MSG_PLOT_DESC_FACET] = {", one panel per {1}", "，每个{1}一个分图"},
    [SVY_MSG_PLOT_GROUP] = {"group", "组别"},
    [SVY_MSG_PLOT_END] = {".", "。"},
    [SVY_MSG_PLOT_DEFAULT_TITLE] = {"Chart of estimates", "估计值图"},
    [SVY_MSG_PLOT_COLON] = {":", "："},
    [SVY_MSG_PLOT_DESC_ITEM] = {"\n{1}: {2}", "\n{1}：{2}"},
    [SVY_MSG_PLOT_DESC_ITEM_COLOR] = {"\n{1}, {2}: {3}", "\n{1}，{2}：{3}"},
    [SVY_MSG_PLOT_DESC_CI] = {" (CI {1} to {2})", "（置信区间 {1} 至 {2}）"},
    [SVY_MSG_PLOT_DESC_FLAGGED] = {", flagged as unreliable", "，标记为不可靠"},
    [SVY_MSG_PLOT_DESC_SEP] = {";", "；"},
    [SVY_MSG_TAB_COL_VARIABLE] = {"variable", "指标"},
    [SVY_MSG_TAB_COL_STATISTIC] = {"statistic", "统计量"},
    [SVY_MSG_TAB_COL_ESTIMATE] = {"estimate", "估计值"},
    [SVY_MSG_TAB_COL_SE] = {"se", "标准误"},
    [SVY_MSG_TAB_COL_CI_LOW] = {"ci_low", "置信下限"},
    [SVY_MSG_TAB_COL_CI_HIGH] = {"ci_high", "置信上限"},
    [SVY_MSG_TAB_COL_DF] = {"df", "自由度"},
    [SVY_MSG_TAB_COL_DEFF] = {"deff", "设计效应"},
    [SVY_MSG_TAB_COL_N] = {"n", "样本量"},
    [SVY_MSG_TAB_COL_WEIGHTED_N] = {"weighted_n", "加权样本量"},
    [SVY_MSG_TAB_COL_CV] = {"cv", "变异系数"},
    [SVY_MSG_TAB_COL_FLAG] = {"flag", "标记"},
    [SVY_MSG_TAB_COL_NOTE] = {"note", "说明"},
    [SVY_MSG_TAB_COL_METHOD] = {"method", "方法"},
    [SVY_MSG_TAB_STAT_RATE] = {"rate", "比率"},
    [SVY_MSG_TAB_STAT_SHARE] = {"share", "构成比"},
    [SVY_MSG_TAB_STAT_MEAN] = {"mean", "均值"},
    [SVY_MSG_TAB_STAT_TOTAL] = {"total", "总量"},
    [SVY_MSG_TAB_FLAG_SUPPRESS] = {"suppress", "不宜发布"},
    [SVY_MSG_TAB_FLAG_REVIEW] = {"review", "需复核"},
    [SVY_MSG_TAB_FLAG_BOTH] = {"suppress+review", "不宜发布+需复核"},
    [SVY_MSG_TAB_FLAG_NO_ESTIMATE] = {"no-estimate", "无估计值"},
    [SVY_MSG_TAB_FLAG_NO_VARIANCE] = {"no-variance", "无方差估计"},
    [SVY_MSG_TAB_FLAG_JOIN] = {"+", "+"},
    [SVY_MSG_TAB_STAGE] = {"stage {1}:", "第 {1} 阶段："},
    [SVY_MSG_TAB_STAGE_SEP] = {"; ", "；"},
    [SVY_MSG_TAB_ROLE_UNIT] = {"unit {1}", "抽样单位 {1}"},
    [SVY_MSG_TAB_EVERY_ROW_PSU] = {"every row a PSU", "每行为一个初级抽样单位"},
    [SVY_MSG_TAB_WEIGHTS_FPC] = {"weights from the fpc (the product over stages of N/n)",
                                 "权重由有限总体校正导出（各阶段 N/n 之积）"},
    [SVY_MSG_TAB_UNWEIGHTED] = {"unweighted (every row weighs 1)", "未加权（每行权重为 1）"},
    [SVY_MSG_TAB_COUNTS] = {"{1} rows{2}, {3} strata, {4} PSUs{5}", "{1} 行{2}，{3} 个层，{4} 个初级抽样单位{5}"},
    [SVY_MSG_TAB_ZERO_WEIGHTS] = {" ({1} of weight 0, kept in the design)", "（其中 {1} 行权重为 0，保留在设计中）"},
    [SVY_MSG_TAB_UNITS_AT_STAGE] = {", {1} units at stage {2}", "，第 {2} 阶段 {1} 个单位"},
    [SVY_MSG_TAB_VAR_MULTI] = {"Taylor linearization over {1} stages, each later stage scaled by the sampling "
                               "fractions of the stages above (R's survey.ultimate.cluster=FALSE), {2}",
                               "泰勒线性化，共 {1} 个阶段，后续各阶段按上层抽样比缩放"
                               "（R 的 survey.ultimate.cluster=FALSE），{2}"},
    [SVY_MSG_TAB_VAR_FIRST_ASKED] = {"Taylor linearization, first stage only (the ultimate cluster, as asked), {1}",
                                     "泰勒线性化，仅第一阶段（按要求采用最终整群近似），{1}"},
    [SVY_MSG_TAB_VAR_FIRST_NOFPC] = {"Taylor linearization, first stage only (the ultimate cluster: later stages "
                                     "enter R's variance only with an fpc), {1}",
                                     "泰勒线性化，仅第一阶段（最终整群近似：R 仅在给出有限总体校正时计入后续阶段），{1}"},
    [SVY_MSG_TAB_VAR_ONE] = {"Taylor linearization, ultimate cluster, {1}", "泰勒线性化，最终整群近似，{1}"},
    [SVY_MSG_TAB_FPC_FRACTIONS] = {"the fpc read as sampling fractions", "有限总体校正按抽样比读取"},
    [SVY_MSG_TAB_FPC_COUNTS] = {"the fpc read as population counts", "有限总体校正按总体单位数读取"},
    [SVY_MSG_TAB_FPC_NONE] = {"no fpc", "无有限总体校正"},
    [SVY_MSG_TAB_NOTE_NO_VARIANCE] = {" \xe2\x80\xa1 every row of the domain is in one PSU: no variance estimate.",
                                      "\xe2\x80\xa1 该子总体的所有行都在同一个初级抽样单位中：无方差估计。"},
    [SVY_MSG_TAB_NOTE_NO_ESTIMATE] = {" \xe2\x80\x94 no valid value (or only weights of 0) in the domain.",
                                      "\xe2\x80\x94 该子总体没有有效值（或权重全为 0）。"},
    [SVY_MSG_PLOT_DIFF_PP] = {"Difference (level \xe2\x88\x92 reference) in percentage points",
                              "差值（水平 \xe2\x88\x92 参照），百分点"},
    [SVY_MSG_PLOT_DIFF_PROP] = {"Difference (level \xe2\x88\x92 reference) in proportions",
                                "差值（水平 \xe2\x88\x92 参照），比例"},
    [SVY_MSG_PLOT_DIFF_OF_PP] = {"Difference {1} in percentage points", "差值 {1}，百分点"},
    [SVY_MSG_PLOT_DIFF_OF_PROP] = {"Difference {1} in proportions", "差值 {1}，比例"},
    [SVY_MSG_PLOT_DIFFS_PP] = {"differences in percentage points", "差值（百分点）"},
    [SVY_MSG_PLOT_DIFFS_PROP] = {"differences of proportions", "比例差值"},
    [SVY_MSG_TAB_COL_REFERENCE] = {"reference", "参照组"},
    [SVY_MSG_TAB_COL_P_VALUE] = {"p_value", "p值"},
    [SVY_MSG_TAB_STAT_DIFFERENCE] = {"difference", "差值"},
    [SVY_MSG_TAB_STAT_RATIO] = {"ratio", "比值"},
    [SVY_MSG_TAB_STAT_QUANTILE] = {"quantile", "分位数"},
    [SVY_MSG_TAB_DIFF_NOTE] = {" Differences: each level of {1} minus the reference level {2} within the other by "
                               "values; SE from the joint linearization of the two domains, their covariance "
                               "included (R svyby(covmat = TRUE) + svycontrast; Stata lincom), interval estimate "
                               "+- quantile x SE and two-sided p-value from {3}{4}.",
                               "差值：{1}的每个水平减去参照水平{2}（其他分组变量取值相同）；标准误来自两个域的"
                               "联合线性化，含两者的协方差（R svyby(covmat = TRUE) + svycontrast；Stata lincom），"
                               "区间为估计值 ± 分位数 × 标准误，双侧p值来自{3}{4}。"},
    [SVY_MSG_TAB_DIFF_NORMAL] = {"the normal distribution", "正态分布"},
    [SVY_MSG_TAB_DIFF_T] = {"t with {1} df", "自由度为{1}的t分布"},
    [SVY_MSG_TAB_DIFF_DESIGN_DF] = {" (the design's PSUs minus strata)", "（设计的初级抽样单位数减层数）"},
    [SVY_MSG_TAB_DIFF_NOTE_REP] = {" Differences: each level of {1} minus the reference level {2} within the other by "
                                   "values; SE from the replicates' differences (R svyby(covmat = TRUE) + svycontrast "
                                   "on the svrepdesign), interval estimate +- quantile x SE and two-sided p-value "
                                   "from {3}{4}.",
                                   "差值：{1}的每个水平减去参照水平{2}（其他分组变量取值相同）；标准误来自各重复样本"
                                   "差值的方差（R svrepdesign 上的 svyby(covmat = TRUE) + svycontrast），"
                                   "区间为估计值 ± 分位数 × 标准误，双侧p值来自{3}{4}。"},
    [SVY_MSG_TAB_DIFF_REP_DF] = {" (the rank of the replicate weights minus 1)", "（重复权数矩阵的秩减1）"},
    [SVY_MSG_TAB_CALIB_RAKED] = {"Calibration-aware variance: the weights were raked to the margins in {1}; the "
                                 "linearized values are replaced by their raking residuals, as R's rake() + "
                                 "svyrecvar (10 back-fitting passes with unweighted cell means, on the final "
                                 "weights). ",
                                 "考虑校准的方差：权数已按{1}中的边际进行迭代比例调整（raking）；线性化值替换为其"
                                 "raking残差，与R的rake() + svyrecvar相同（以最终权数、未加权格均值回代10轮）。"},
    [SVY_MSG_TAB_CALIB_POSTSTRAT] = {"Calibration-aware variance: the weights were post-stratified to the margins "
                                     "in {1}; the linearized values are replaced by their residuals from the "
                                     "weighted cell means, as R's postStratify() + svyrecvar. ",
                                     "考虑校准的方差：权数已按{1}中的边际事后分层；线性化值替换为其相对于加权格"
                                     "均值的残差，与R的postStratify() + svyrecvar相同。"},
};

const char *svy_msg(svy_lang lang, svy_msg_id id)
{
    if ((unsigned)id >= SVY_MSG_COUNT_)
        return "";
    const char *s = catalogue[id][lang == SVY_LANG_ZH ? 1 : 0];
    return s ? s : "";
}

size_t svy_msg_format(char *buf, size_t size, svy_lang lang, svy_msg_id id, ...)
{
    const char *args[9] = {0};
    va_list ap;
    va_start(ap, id);
    for (int i = 0; i < 9; i++) {
        const char *a = va_arg(ap, const char *);
        if (!a)
            break;
        args[i] = a;
    }
    va_end(ap);
    size_t u = 0;
#define PUT(ch)                                                                                            \
    do {                                                                                                   \
        if (u + 1 < size)                                                                                  \
            buf[u] = (ch);                                                                                 \
        u++;                                                                                               \
    } while (0)
    for (const char *p = svy_msg(lang, id); *p; p++) {
        if (p[0] == '{' && p[1] >= '1' && p[1] <= '9' && p[2] == '}') {
            const char *a = args[p[1] - '1'];
            for (; a && *a; a++)
                PUT(*a);
            p += 2;
        } else {
            PUT(*p);
        }
    }
#undef PUT
    if (size)
        buf[u < size ? u : size - 1] = '\0';
    return u;
}
