// Walks Vigil's dashboard in Debian's headless Chromium, driven by
// playwright-core (no browser download): signs in as each kind of user of
// the demonstration, follows a deployment, responds to an alert, checks that
// a Trust's person cannot reach another Trust's deployment, reads a hazard
// log and the governance pack, compares procurement assessments, manages
// users and tokens as an administrator, and saves screenshots.
//
//   VIGIL_URL=http://127.0.0.1:8080 VIGIL_SCREENSHOTS=out/e2e node e2e/dashboard.mjs
//
// Needs a server on the demonstration's data (`vigil demo`, any volume).

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.env.VIGIL_URL ?? "http://127.0.0.1:8080";
const screenshots = process.env.VIGIL_SCREENSHOTS ?? "out/e2e";
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const password = "vigil-demo-password";
mkdirSync(screenshots, { recursive: true });

function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

async function signIn(page, user) {
  await page.goto(`${base}/`);
  check(page.url().endsWith("/login"), `an anonymous visit to / should land on /login, not ${page.url()}`);
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/`);
  const heading = await page.locator("h1").textContent();
  check(heading.startsWith("Deployments at "), `${user}: the overview's heading is "${heading}"`);
}

async function signOut(page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${base}/login`);
}

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();

  // The sign-in page puts the cursor in the user name; a wrong password is
  // refused on the page, with the reason.
  // Browsers run autofocus at a rendering update, which can come after the
  // load event: wait up to 5 s for it before reading where the focus is.
  await page.goto(`${base}/login`);
  await page
    .waitForFunction(() => document.activeElement?.id === "user_name", null, { timeout: 5000 })
    .catch(() => {});
  const autofocused = await page.evaluate(() => document.activeElement?.id ?? "");
  check(autofocused === "user_name", `the sign-in page focuses "${autofocused}"`);
  await page.getByLabel("User name").fill("rpn.ai-lead");
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  const refusal = await page.getByRole("alert").textContent();
  check(refusal.includes("wrong"), `a wrong password says "${refusal}"`);

  // Every kind of user reaches the overview of their organisation.
  const users = [
    "national.admin",
    "north-west.ai-lead",
    "rpn.ai-lead",
    "rpn.clinical-safety-officer",
    "rpn.clinical-lead",
    "rpn.clinician",
    "rpn.procurement-lead",
    "rpn.organisation-admin",
    "rpn.viewer",
    "rmv.medical-physics-expert",
  ];
  let elsewhere = null;
  for (const user of users) {
    await signIn(page, user);
    const rows = await page.locator("tbody tr").count();
    check(rows > 0, `${user} sees no deployments`);
    await page.screenshot({ path: join(screenshots, `overview-${user}.png`), fullPage: true });
    if (user === "national.admin") {
      // The nation's overview leads down through a region to a Trust.
      check((await page.content()).includes("Organisations below"), "the nation lists its regions");
      await page.getByRole("link", { name: "North West Imaging Network" }).click();
      await page.waitForURL(/organisation=north-west$/);
      await page.getByRole("link", { name: "Pennine Moors Teaching Hospitals NHS Trust" }).click();
      await page.waitForURL(/organisation=rpn$/);
      check((await page.locator("h1").textContent()).includes("Pennine Moors"), "the drill-down reaches the Trust");
      check((await page.getByRole("navigation", { name: "Organisations" }).textContent()).includes("NHS England"), "the way back up is shown");
      await page.screenshot({ path: join(screenshots, "overview-drill-down.png"), fullPage: true });
      await page.goto(`${base}/`);
      // A deployment outside Pennine Moors, for the scope check below.
      const links = page.locator("tbody tr", { hasNotText: "Pennine Moors" }).locator("a");
      elsewhere = await links.first().getAttribute("href");
      check(rows >= 30, `the national administrator sees ${rows} deployments`);
    }
    await signOut(page);
  }

  // The AI lead of Pennine Moors follows ChestFlag and responds to an alert;
  // on a page, the skip link is the keyboard's first stop.
  await signIn(page, "rpn.ai-lead");
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement?.textContent ?? "");
  check(focused.includes("Skip to the content"), `the first tab stop is "${focused}"`);
  await page.getByRole("link", { name: "ChestFlag" }).click();
  await page.waitForURL(/\/deployments\/\d+$/);
  const title = await page.locator("h1").textContent();
  check(title.includes("ChestFlag") && title.includes("Pennine Moors"), `the deployment page is "${title}"`);
  // Four weekly rates, the score distribution against its baseline, and a
  // control chart for each CUSUM or EWMA rule; every plotted value has its
  // numbers on hover.
  const charts = await page.locator(".chart svg").count();
  check(charts >= 6, `the deployment page has ${charts} charts`);
  check((await page.locator("#control ~ .chart svg").count()) >= 1, "the control charts are drawn");
  check((await page.locator(".chart svg title").count()) > 50, "plotted values carry their numbers on hover");
  check((await page.locator("section", { has: page.locator("h2#drift") }).locator("tbody tr").count()) >= 1, "the drift table lists the drift rules");
  await page.getByRole("link", { name: "Every monitoring rule judged today" }).click();
  await page.waitForURL(/\/rules$/);
  const drift = page.locator("tr", { hasText: "input-scanner-model" });
  check((await drift.count()) === 1, "the rules page has the scanner-model drift rule");
  await page.screenshot({ path: join(screenshots, "rules-chestflag.png"), fullPage: true });
  await page.goBack();
  await page.waitForURL(/\/deployments\/\d+$/);
  await page.screenshot({ path: join(screenshots, "deployment-chestflag.png"), fullPage: true });
  // Its local validation's report opens from the page.
  const report = await page.request.get(`${base}${await page.getByRole("link", { name: "Open the report" }).first().getAttribute("href")}`);
  check(report.ok() && (await report.text()).includes("<svg"), "the validation report opens, with its charts");
  const form = page.locator("#alert-list form").first();
  const target = await form.getAttribute("action");
  const action = await form.locator("input[name=action]").getAttribute("value");
  await form.locator("textarea").fill("Reviewed in the browser test");
  await form.getByRole("button").click();
  await page.waitForURL(/#alert-list$/);
  const after = page.locator(`#alert-list form[action="${target}"]`);
  if (action === "acknowledge") {
    check((await after.getByRole("button").textContent()) === "Resolve", "an acknowledged alert offers to resolve it");
  } else {
    check((await after.count()) === 0, "a resolved alert offers nothing more");
  }
  check((await page.content()).includes("Reviewed in the browser test"), "the note is shown with the alert");
  await page.screenshot({ path: join(screenshots, "deployment-after-alert.png"), fullPage: true });

  // Its productivity audit judges it against the criteria registered
  // before go-live.
  await page.getByRole("link", { name: "Productivity audit" }).click();
  await page.waitForURL(/\/productivity$/);
  check((await page.locator("h2#recommendation").textContent()).startsWith("Recommendation: "), "the productivity audit recommends");
  await page.screenshot({ path: join(screenshots, "productivity-chestflag.png"), fullPage: true });
  await page.goBack();
  await page.waitForURL(/#alert-list$/);

  // The product page compares the sites on funnel plots.
  await page.locator("dl.facts").getByRole("link", { name: "ChestFlag" }).click();
  await page.waitForURL(/\/products\/\d+$/);
  check((await page.locator("h2#funnels").textContent()).includes("funnel plots"), "the product page has funnel plots");
  await page.screenshot({ path: join(screenshots, "product-chestflag.png"), fullPage: true });

  // Another Trust's deployment is out of reach.
  check(elsewhere !== null, "the national overview lists a deployment outside Pennine Moors");
  const response = await page.goto(`${base}${elsewhere}`);
  check(response.status() === 404, `another Trust's deployment answered ${response.status()}`);
  check((await page.getByRole("alert").textContent()).includes("not yours to see"), "the refusal says why");
  await page.screenshot({ path: join(screenshots, "other-trust.png"), fullPage: true });
  await signOut(page);

  // The clinical safety officer of Pennine Moors suspends ScreenRead.
  await signIn(page, "rpn.clinical-safety-officer");
  await page.getByRole("link", { name: "ScreenRead" }).click();
  await page.waitForURL(/\/deployments\/\d+$/);
  await page.getByLabel("Rationale", { exact: false }).first().fill("Suspended in the browser test pending review");
  await page.getByRole("button", { name: "Record the move to suspended" }).click();
  await page.waitForURL(/#decide-section$/);
  check((await page.locator("h1 .state").textContent()) === "suspended", "the deployment is suspended");
  check((await page.content()).includes("Suspended in the browser test pending review"), "the decision is in the timeline");
  await page.screenshot({ path: join(screenshots, "deployment-suspended.png"), fullPage: true });
  const deploymentPath = new URL(page.url()).pathname;

  // Its hazard log, with the safety case's position, and its governance
  // pack as a PDF.
  await page.getByRole("link", { name: "The hazard log" }).click();
  await page.waitForURL(/\/hazards$/);
  check((await page.locator("h2#log ~ table tbody tr").count()) >= 1, "the hazard log lists hazards");
  check((await page.locator("h2#position").count()) === 1, "the hazard log states the safety position");
  check((await page.getByRole("button", { name: "Add the hazard" }).count()) === 1, "the safety officer may add a hazard");
  await page.screenshot({ path: join(screenshots, "hazard-log.png"), fullPage: true });
  const pack = await page.request.get(`${base}/api/v1${deploymentPath}/governance-pack`);
  check(pack.ok() && pack.headers()["content-type"] === "application/pdf", `the governance pack answered ${pack.status()}`);
  check((await pack.body()).subarray(0, 5).toString() === "%PDF-", "the governance pack is a PDF");
  await page.goto(`${base}/api/v1${deploymentPath}/governance-pack?format=html`);
  check((await page.locator("h1").textContent()).startsWith("Governance pack: "), "the pack's HTML opens");
  await page.screenshot({ path: join(screenshots, "governance-pack.png"), fullPage: true });
  await page.goto(`${base}${deploymentPath}`);

  // The safety officer reads the audit trail: the chain verifies, and the
  // suspension just recorded is its newest entry of the Trust.
  await page.getByRole("link", { name: "Audit trail" }).click();
  await page.waitForURL(`${base}/audit`);
  check((await page.content()).includes("intact"), "the audit chain verifies");
  check((await page.locator("tbody tr").first().textContent()).includes("deployment.transition"), "the newest entry is the suspension");
  await page.screenshot({ path: join(screenshots, "audit.png"), fullPage: true });
  await signOut(page);

  // The procurement lead compares two vendors' assessments side by side
  // and opens one.
  await signIn(page, "rpn.procurement-lead");
  await page.getByRole("link", { name: "Procurement" }).click();
  await page.waitForURL(`${base}/procurement`);
  const boxes = page.locator("input[name=ids]");
  check((await boxes.count()) >= 2, "the Trust's assessments are listed");
  await boxes.nth(0).check();
  await boxes.nth(1).check();
  await page.getByRole("button", { name: "Compare the ticked assessments side by side" }).click();
  await page.waitForURL(/\/procurement\/compare\?/);
  check((await page.locator("tbody tr").count()) >= 10, "the comparison has a row per section, the total, the gates and the outcome");
  await page.screenshot({ path: join(screenshots, "procurement-comparison.png"), fullPage: true });
  await page.locator("thead a").first().click();
  await page.waitForURL(/\/assessments\/\d+$/);
  check((await page.locator("h1").textContent()).startsWith("Assessment A"), "an assessment opens");
  await page.screenshot({ path: join(screenshots, "procurement-assessment.png"), fullPage: true });
  await signOut(page);

  // The Trust's administrator adds a user, creates an API token (its secret
  // shown once) and revokes it.
  await signIn(page, "rpn.organisation-admin");
  await page.getByRole("link", { name: "Administration" }).click();
  await page.waitForURL(`${base}/admin`);
  await page.getByLabel("User name").fill("rpn.new-physicist");
  await page.getByLabel("Full name").fill("New Physicist");
  await page.locator("#new-role").selectOption("medical_physics_expert");
  await page.getByRole("button", { name: "Add the user" }).click();
  await page.waitForURL(/\/admin#user-list$/);
  check((await page.locator("#user-list tr", { hasText: "rpn.new-physicist" }).count()) === 1, "the new user is listed");
  await page.getByLabel("Name (what uses it)").fill("PACS bridge");
  await page.getByRole("button", { name: "Create the token" }).click();
  const secret = await page.getByLabel("Secret").inputValue();
  check(secret.startsWith("vigil_"), "the token's secret is shown once");
  await page.screenshot({ path: join(screenshots, "admin-token.png"), fullPage: true });
  await page.getByRole("link", { name: "Back to administration" }).click();
  await page.getByRole("button", { name: "Revoke the token PACS bridge" }).click();
  await page.waitForURL(/\/admin#token-list$/);
  check((await page.locator("#token-list tr", { hasText: "PACS bridge" }).textContent()).includes("revoked"), "the token is revoked");
  await page.screenshot({ path: join(screenshots, "admin.png"), fullPage: true });
  await signOut(page);
  console.log(`dashboard walk passed; screenshots in ${screenshots}`);
} finally {
  await browser.close();
}
