import { consolidate, pipPackages, type StepSource } from "../../src/session/consolidate.ts";
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";

const py = (step: number, tag: string, code: string | undefined, status = "Finished"): StepSource => ({
  step,
  tag,
  status,
  language: "python",
  code,
});

Deno.test("consolidate: the seed's before/after example, line by line", () => {
  const r = consolidate({
    sessionName: "customer-classifier",
    source: "./session.json",
    steps: [
      py(1, "install", "%pip install scikit-learn pandas\n"),
      py(2, "load", 'import pandas as pd\ndf = spark.read.table("catalog.schema.customers").toPandas()\n'),
      py(
        3,
        "train",
        "from sklearn.ensemble import RandomForestClassifier\nimport joblib\n\n" +
          "model = RandomForestClassifier(n_estimators=100, random_state=42)\n" +
          'model.fit(df[features], df["label"])\n',
      ),
    ],
  });
  assertEquals(
    r.text,
    [
      '"""',
      "Consolidated from session: customer-classifier",
      "Source: ./session.json",
      "Steps: 3 (of 3 attempted)",
      '"""',
      "",
      "# --- Dependencies ---",
      "# Requires: scikit-learn, pandas",
      "",
      "# --- Imports ---",
      "import pandas as pd",
      "from sklearn.ensemble import RandomForestClassifier",
      "import joblib",
      "",
      "# --- Step 1: load ---",
      'df = spark.read.table("catalog.schema.customers").toPandas()',
      "",
      "# --- Step 2: train ---",
      "model = RandomForestClassifier(n_estimators=100, random_state=42)",
      'model.fit(df[features], df["label"])',
      "",
    ].join("\n"),
  );
  assertEquals(r.kept.map((k) => [k.section, k.step]), [[null, 1], [1, 2], [2, 3]]);
  assertEquals(r.requires, ["scikit-learn", "pandas"]);
  assertEquals(r.usesSubLlm, false);
});

Deno.test("consolidate: a retried tag keeps its last successful attempt, in the order it ran", () => {
  const r = consolidate({
    sessionName: "s",
    source: "./session.json",
    steps: [
      py(1, "load", "x = 1\n"),
      py(2, "train", "y = x +\n", "Error"),
      py(3, "train", "y = x + 1\n"),
      py(4, "train", "y = x + 2  # worse\n", "Error"),
      py(5, "eval", "print(y)\n", "Cancelled"),
    ],
  });
  assertEquals(r.kept.map((k) => [k.step, k.tag]), [[1, "load"], [3, "train"]]);
  assertEquals(r.skipped.map((s) => [s.step, s.reason]), [[2, "retried"], [4, "retried"], [5, "failed"]]);
  assertStringIncludes(r.text, "Steps: 2 (of 5 attempted)");
  assertStringIncludes(r.text, "# --- Step 2: train ---\ny = x + 1\n");
  assert(!r.text.includes("print(y)"));

  const withFailed = consolidate({
    sessionName: "s",
    source: "./session.json",
    steps: [py(1, "load", "x = 1\n"), py(5, "eval", "print(x)\n", "Cancelled")],
    includeFailed: true,
  });
  assertStringIncludes(withFailed.text, "# --- Step 2: eval (Cancelled in the session) ---\nprint(x)\n");
});

Deno.test("consolidate: imports hoisted once; indented, compound and post-sys.path imports stay in place", () => {
  const r = consolidate({
    sessionName: "s",
    source: "./session.json",
    steps: [
      py(1, "a", "import os\nimport json\nfrom typing import (\n    Any,\n    Dict,\n)\nx = os.getcwd()\n"),
      py(
        2,
        "b",
        "import os\nimport json  # again\ntry:\n    import yaml\nexcept ImportError:\n    yaml = None\n",
      ),
      py(
        3,
        "c",
        "import sys; print(sys.version)\nimport sys\nsys.path.insert(0, '/tmp/lib')\nimport mylib\n",
      ),
      py(4, "d", "import helper\nfrom __future__ import annotations\n"),
    ],
  });
  assertEquals(r.imports, [
    "from __future__ import annotations",
    "import os",
    "import json",
    "from typing import (\n    Any,\n    Dict,\n)",
    "import sys",
  ]);
  assertStringIncludes(r.text, "# --- Step 2: b ---\ntry:\n    import yaml\n");
  assertStringIncludes(
    r.text,
    "# --- Step 3: c ---\nimport sys; print(sys.version)\nsys.path.insert(0, '/tmp/lib')\nimport mylib\n",
  );
  assertStringIncludes(r.text, "# --- Step 4: d ---\nimport helper\n");
  assert(r.notes.some((n) => n.includes("sys.path")));
  // The string that looks like an import is not one.
  const s = consolidate({
    sessionName: "s",
    source: "./session.json",
    steps: [py(1, "a", 'doc = """\nimport os\n"""\nprint(doc)\n')],
  });
  assertEquals(s.imports, []);
  assertStringIncludes(s.text, 'doc = """\nimport os\n"""\nprint(doc)\n');
});

Deno.test("consolidate: magics become Requires, spark.sql or comments; sub_llm brings the helpers", () => {
  const r = consolidate({
    sessionName: "s",
    source: "p/session.json",
    steps: [
      py(
        1,
        "deps",
        "%pip install -q --upgrade xgboost==2.0.3 'pydantic>=2' -r reqs.txt\n!pip install shap\n",
      ),
      py(2, "q", "%sql SELECT 1\n%sh ls /tmp\nanswer = sub_llm('hi')\n"),
      py(3, "cell", "%%sql\nSELECT *\nFROM t;\n"),
      py(4, "sh", "%%sh\necho hi\n"),
      { step: 5, tag: "sqlstep", status: "Finished", language: "sql", code: "SELECT 2;" },
      { step: 6, tag: "scala", status: "Finished", language: "scala", code: "println(1)" },
    ],
    helpers: "def sub_llm(p):\n    return p\n",
  });
  assertEquals(r.requires, ["xgboost==2.0.3", "pydantic>=2", "-r reqs.txt", "shap"]);
  assertStringIncludes(
    r.text,
    "# --- Step 1: q ---\nspark.sql(\"SELECT 1\")\n# %sh ls /tmp\nanswer = sub_llm('hi')\n",
  );
  assertStringIncludes(r.text, '# --- Step 2: cell ---\nspark.sql("SELECT *\\nFROM t")\n');
  assertStringIncludes(r.text, "# --- Step 3: sh ---\n# %%sh\n# echo hi\n");
  assertStringIncludes(r.text, '# --- Step 4: sqlstep ---\nspark.sql("SELECT 2")\n');
  assertStringIncludes(r.text, "# --- dbxr helpers: sub_llm, sub_llm_batch");
  assertStringIncludes(r.text, "def sub_llm(p):\n    return p\n");
  assertEquals(r.skipped.map((s) => [s.step, s.reason]), [[6, "not_python"]]);
  assert(r.notes.some((n) => n.includes("%sh ls /tmp")));
});

Deno.test("consolidate: a step whose command file is missing is skipped and said", () => {
  const r = consolidate({
    sessionName: "s",
    source: "./session.json",
    steps: [py(1, "a", undefined), py(2, "b", "x=1")],
  });
  assertEquals(r.skipped, [{ step: 1, tag: "a", status: "Finished", reason: "missing_file" }]);
  assertEquals(r.kept.map((k) => k.step), [2]);
});

Deno.test("pipPackages: install lines only", () => {
  assertEquals(pipPackages("%pip install a b==1"), ["a", "b==1"]);
  assertEquals(pipPackages("!python -m pip install c"), ["c"]);
  assertEquals(pipPackages("%pip uninstall a"), undefined);
  assertEquals(pipPackages("%sh pip install a"), undefined);
  assertEquals(pipPackages("%pip install --index-url https://x/simple d"), ["d"]);
});
