# Reference values from R for the vigil-stats known-answer fixtures.
#
# Called by generate.py (next to this file); not meant to be run by hand:
#
#   Rscript reference.R IN.json OUT.json
#
# IN.json  (written by generate.py):
#   datasets:       [{name, scores, labels, scores_b}]
#   delong:         [{name, dataset, level}]
#   delong_paired:  [{name, dataset, level}]
#   calibration:    [{name, dataset}]
#   crosscheck:     {proportions: [{name, successes, trials, level}],
#                    chi_square: [{name, table}], ks: [{name, a, b}],
#                    funnel: [{name, target, n, q}]}
# OUT.json: the same names with the R results (see the end of this file).
#
# Peers: pROC (roc, auc, var(method = "delong"), ci.auc(method = "delong"),
# roc.test(paired = TRUE, method = "delong")), rms (val.prob), and base R
# (binom.test, prop.test, chisq.test, ks.test, qbinom) as cross-checks of the
# SciPy values.
#
# Number formatting: jsonlite's toJSON(digits = NA) writes only 15 significant
# digits (it does not round-trip doubles; jsonlite 1.8.4), so every number is
# written here as a string with sprintf("%.17g"), which round-trips exactly;
# generate.py converts the strings back with float(). jsonlite's *parser* is
# exact (checked: 61,000 random doubles read back bit-identical).

suppressPackageStartupMessages({
  library(jsonlite)
  library(pROC)
  library(rms)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2) stop("usage: Rscript reference.R IN.json OUT.json")
input <- fromJSON(args[[1]], simplifyVector = FALSE)

# Full-precision number -> string ("%.17g"); NA -> JSON null.
num <- function(x) {
  x <- as.numeric(x)
  out <- sprintf("%.17g", x)
  out[is.na(x) & !is.nan(x)] <- NA_character_
  if (length(out) == 1) out else as.list(out)
}
vec <- function(x) as.numeric(unlist(x))

datasets <- list()
for (d in input$datasets) {
  datasets[[d$name]] <- list(
    scores = vec(d$scores),
    labels = as.integer(unlist(d$labels)),
    scores_b = vec(d$scores_b)
  )
}

make_roc <- function(labels, scores) {
  roc(response = labels, predictor = scores, levels = c(0, 1),
      direction = "<", quiet = TRUE)
}

# Warnings are expected and harmless for the degenerate datasets (perfect
# separation: "var() of a ROC curve with AUC == 1 is always 0"), so they are
# muffled, but collected for the log.
warnings_seen <- character(0)
quietly <- function(expr) {
  withCallingHandlers(expr, warning = function(w) {
    warnings_seen <<- c(warnings_seen, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
}

# ---- AUC of every dataset (for the sklearn == pROC assertion) -------------
auc_out <- list()
for (name in names(datasets)) {
  d <- datasets[[name]]
  ra <- make_roc(d$labels, d$scores)
  rb <- make_roc(d$labels, d$scores_b)
  auc_out[[name]] <- list(auc = num(as.numeric(auc(ra))),
                          auc_b = num(as.numeric(auc(rb))))
}

# ---- DeLong variance and CI ------------------------------------------------
delong_out <- list()
for (case in input$delong) {
  d <- datasets[[case$dataset]]
  r <- make_roc(d$labels, d$scores)
  v <- quietly(var(r, method = "delong"))
  ci <- quietly(ci.auc(r, method = "delong", conf.level = case$level))
  delong_out[[length(delong_out) + 1]] <- list(
    name = case$name,
    auc = num(as.numeric(auc(r))),
    variance = num(v),
    ci_low = num(ci[[1]]),
    ci_mid = num(ci[[2]]),
    ci_high = num(ci[[3]])
  )
}

# ---- Paired DeLong test ----------------------------------------------------
paired_out <- list()
for (case in input$delong_paired) {
  d <- datasets[[case$dataset]]
  r1 <- make_roc(d$labels, d$scores)
  r2 <- make_roc(d$labels, d$scores_b)
  t <- quietly(roc.test(r1, r2, paired = TRUE, method = "delong",
                        conf.level = case$level))
  paired_out[[length(paired_out) + 1]] <- list(
    name = case$name,
    auc_a = num(t$estimate[[1]]),
    auc_b = num(t$estimate[[2]]),
    z = num(t$statistic[[1]]),
    p_value = num(t$p.value),
    ci_low = num(t$conf.int[[1]]),
    ci_high = num(t$conf.int[[2]])
  )
}

# ---- Calibration intercept and slope (rms) --------------------------------
# val.prob fits y ~ logit(p) with lrm.fit's default convergence criterion
# (eps = 0.025 change in -2 log L), which can stop up to ~3e-7 away from the
# maximum-likelihood estimate. The fixture uses the same rms fit, lrm.fit,
# run to convergence (eps = 1e-12); val.prob's own values and a tightly
# converged glm() are returned as well so generate.py can check all three.
# For a constant score val.prob defines Intercept = qlogis(mean(y)) and
# Slope = 0 (the two-parameter fit is not identifiable); that is used as is.
cal_out <- list()
for (case in input$calibration) {
  d <- datasets[[case$dataset]]
  vp <- quietly(val.prob(d$scores, d$labels, pl = FALSE))
  lp <- qlogis(d$scores)
  if (length(unique(d$scores)) > 1) {
    f <- lrm.fit(lp, d$labels, eps = 1e-12, maxit = 100)
    if (f$fail) stop(paste("lrm.fit failed for", case$name))
    tight <- unname(coef(f))
    g <- coef(glm(d$labels ~ lp, family = binomial(),
                  control = glm.control(epsilon = 1e-15, maxit = 200)))
  } else {
    tight <- c(vp[["Intercept"]], vp[["Slope"]])
    g <- c(NA, NA)
  }
  cal_out[[length(cal_out) + 1]] <- list(
    name = case$name,
    intercept = num(tight[[1]]),
    slope = num(tight[[2]]),
    val_prob_intercept = num(vp[["Intercept"]]),
    val_prob_slope = num(vp[["Slope"]]),
    brier = num(vp[["Brier"]]),
    glm_intercept = num(g[[1]]),
    glm_slope = num(g[[2]])
  )
}

# ---- Cross-checks of the SciPy values with base R --------------------------
cc <- input$crosscheck
prop_out <- quietly(lapply(cc$proportions, function(case) {
  x <- case$successes; n <- case$trials; lvl <- case$level
  cp <- binom.test(x, n, conf.level = lvl)$conf.int
  wi <- prop.test(x, n, conf.level = lvl, correct = FALSE)$conf.int
  list(name = case$name, clopper_pearson_low = num(cp[[1]]),
       clopper_pearson_high = num(cp[[2]]), wilson_low = num(wi[[1]]),
       wilson_high = num(wi[[2]]))
}))

chisq_out <- lapply(cc$chi_square, function(case) {
  tab <- do.call(rbind, lapply(case$table, vec))
  t <- suppressWarnings(chisq.test(tab, correct = FALSE))
  list(name = case$name, statistic = num(t$statistic[[1]]),
       p_value = num(t$p.value), dof = num(t$parameter[[1]]))
})

ks_out <- lapply(cc$ks, function(case) {
  a <- vec(case$a); b <- vec(case$b)
  # ks.test(exact = TRUE) passes the pooled sample for tie handling and then
  # gives up on large samples (falling back to a Monte Carlo p with a
  # warning); the samples have no ties, so call psmirnov without it.
  d <- ks.test(a, b, exact = FALSE)$statistic[[1]]
  sizes <- c(length(a), length(b))
  list(name = case$name, statistic = num(d),
       p_exact = num(stats:::psmirnov(d, sizes, exact = TRUE,
                                      lower.tail = FALSE)),
       p_asymptotic = num(stats:::psmirnov(d, sizes, exact = FALSE,
                                           lower.tail = FALSE)))
})

funnel_out <- lapply(cc$funnel, function(case) {
  r <- qbinom(case$q, case$n, case$target)
  list(name = case$name, r = num(r),
       cdf_r = num(pbinom(r, case$n, case$target)),
       cdf_r_minus_1 = num(pbinom(r - 1, case$n, case$target)))
})

out <- list(
  versions = list(
    R = R.version.string,
    pROC = as.character(packageVersion("pROC")),
    rms = as.character(packageVersion("rms")),
    Hmisc = as.character(packageVersion("Hmisc")),
    jsonlite = as.character(packageVersion("jsonlite"))
  ),
  auc = auc_out,
  delong = delong_out,
  delong_paired = paired_out,
  calibration = cal_out,
  crosscheck = list(proportions = prop_out, chi_square = chisq_out,
                    ks = ks_out, funnel = funnel_out),
  warnings = as.list(unique(warnings_seen))
)
writeLines(toJSON(out, auto_unbox = TRUE, null = "null", na = "null",
                  pretty = FALSE), args[[2]])
