// swfd console: small enhancements over server-rendered pages. Everything
// works without it except live updates; nothing here talks to swfd other
// than the console's own URLs.
"use strict";
(function () {
  const $ = (s, el) => (el || document).querySelector(s);
  const $$ = (s, el) => Array.from((el || document).querySelectorAll(s));
  const frag = { headers: { "X-Console-Fragment": "1" }, credentials: "same-origin" };

  // Invisible characters in names are shown as their escapes (\u202E,
  // \u200B, \U000E0041), as the server shows them: bidirectional controls
  // ("rtl-\u202Etxt.exe" would read "rtl-exe.txt"), and format and other
  // default-ignorable characters ("order\u200B-1" would look like
  // "order-1"). The same set as isInvisible in bidi.go.
  const invisible = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/u;
  const invisibles = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
  const vis = (s) => String(s).replace(invisibles, (c) => {
    const n = c.codePointAt(0);
    return n > 0xffff ? "\\U" + n.toString(16).toUpperCase().padStart(8, "0") : "\\u" + n.toString(16).toUpperCase().padStart(4, "0");
  });

  // Times are shown in UTC; the title says the local time.
  function localTitles(root) {
    $$("time[datetime]", root).forEach((t) => {
      const d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) t.title = d.toLocaleString();
    });
  }

  // The command lines: copy, and keep them in step with their form. The
  // server gives each form's line without the flags of its fields
  // (data-cli-base, already quoted); each field that has a value adds its
  // flag and the value, quoted by quote. A value with an invisible
  // character, or a control character other than a line feed or a tab, is
  // written $'…' with each such character as the escapes of its
  // UTF-8 bytes (U+202E as \xe2\x80\xae), which the shell reads back as the
  // character whatever its locale: the line shows what it sends. These are
  // the rules of shellQuote in cli.go.
  const ctl = (n) => n < 0x20 || (n >= 0x7f && n < 0xa0);
  const utf8 = new TextEncoder();
  const byteEsc = (b) => "\\x" + b.toString(16).padStart(2, "0");
  function quote(s) {
    if (s === "") return "''";
    const chars = Array.from(s);
    const esc = (c) => invisible.test(c) || ctl(c.codePointAt(0));
    if (chars.some((c) => esc(c) && c !== "\n" && c !== "\t")) {
      let out = "$'";
      for (const c of chars) {
        if (esc(c)) out += Array.from(utf8.encode(c), byteEsc).join("");
        else if (c === "\\" || c === "'") out += "\\" + c;
        else out += c;
      }
      return out + "'";
    }
    return /^[A-Za-z0-9_\-./=:,@%+]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'";
  }
  // A structure's value: shorthand when the value is plain, else JSON (as
  // structArg in cli.go).
  function structArg(key, v) {
    if (/^[A-Za-z0-9_.+@:-]+$/.test(v)) return key + "=" + v;
    const o = {};
    o[key] = v;
    return JSON.stringify(o);
  }
  // The white space the server trims from a field marked data-trim (Go's
  // strings.TrimSpace): the line shows the value the form sends.
  const space = "\\t\\n\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
  const trimRe = new RegExp("^[" + space + "]+|[" + space + "]+$", "g");
  const trim = (s) => s.replace(trimRe, "");
  function cliForm(form) {
    const code = $("[data-cli]", form);
    if (!code || code.dataset.cliBase === undefined) return;
    const inputs = $$("[data-flag]", form);
    const base = code.dataset.cliBase;
    const update = () => {
      let line = base;
      inputs.forEach((el) => {
        let v = el.dataset.trim !== undefined ? trim(el.value) : el.value;
        if (el.tagName === "SELECT" && el.selectedOptions[0] && el.selectedOptions[0].dataset.cliValue) v = el.selectedOptions[0].dataset.cliValue;
        if (!v) return;
        if (el.dataset.tags !== undefined) {
          const tags = v.split("\n").map(trim).filter((x) => x.includes("=")).map((x) => {
            const i = x.indexOf("=");
            return { key: trim(x.slice(0, i)), value: trim(x.slice(i + 1)) };
          });
          // Shorthand, one argument a tag, when every key and value is
          // plain; else all of them as one JSON list.
          const plain = tags.every((t) => /^[A-Za-z0-9_.+@:-]*$/.test(t.key + t.value));
          const args = plain ? tags.map((t) => quote("key=" + t.key + ",value=" + t.value)) : [quote(JSON.stringify(tags))];
          if (tags.length) line += " " + el.dataset.flag + " " + args.join(" ");
          return;
        }
        if (el.dataset.list !== undefined) {
          // One item a line (an item may hold a comma or a space).
          const parts = v.split("\n").map(trim).filter(Boolean);
          if (parts.length) line += " " + el.dataset.flag + " " + parts.map(quote).join(" ");
          return;
        }
        if (el.dataset.struct) v = structArg(el.dataset.struct, v);
        line += " " + el.dataset.flag + " " + quote(v);
      });
      code.textContent = line;
    };
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }
  function wireCopy(root) {
    $$("[data-copy]", root).forEach((b) => b.addEventListener("click", () => {
      const text = b.parentElement.querySelector("[data-cli]").textContent;
      const done = () => { b.textContent = "Copied"; setTimeout(() => (b.textContent = "Copy"), 1200); };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done);
      else {
        const r = document.createRange(); r.selectNodeContents(b.parentElement.querySelector("[data-cli]"));
        const s = getSelection(); s.removeAllRanges(); s.addRange(r); document.execCommand("copy"); done();
      }
    }));
  }

  // Confirmations for what cannot be undone.
  function wireConfirm() {
    $$("form[data-confirm]").forEach((f) => f.addEventListener("submit", (e) => {
      if (!confirm(f.dataset.confirm)) e.preventDefault();
    }));
    $$("[data-back]").forEach((a) => a.addEventListener("click", (e) => {
      if (history.length > 1) { e.preventDefault(); history.back(); }
    }));
  }

  // A form that acts is sent once: a second click (a double click, Enter
  // pressed again) while the first is on its way would act twice (two
  // signals, a second start refused). Its buttons are off until the next
  // page; a page come back to from the history has them on again. Added
  // after the confirmations, so that a form whose confirmation was
  // declined may still be sent.
  function wireOnce() {
    $$("form[method=post]").forEach((f) => f.addEventListener("submit", (e) => {
      if (e.defaultPrevented) return;
      if (f.dataset.sending) { e.preventDefault(); return; }
      f.dataset.sending = "1";
      setTimeout(() => $$("button", f).forEach((b) => {
        if (b.type !== "button" && !b.disabled) { b.disabled = true; b.dataset.sendingOff = ""; }
      }), 0);
    }));
    window.addEventListener("pageshow", (e) => {
      if (!e.persisted) return;
      $$("form[data-sending]").forEach((f) => {
        delete f.dataset.sending;
        $$("button[data-sending-off]", f).forEach((b) => { b.disabled = false; delete b.dataset.sendingOff; });
      });
    });
  }

  // The batch form shows the fields of the action chosen.
  function wireBatch() {
    const sel = $("[data-batch-action]");
    if (!sel) return;
    const show = () => $$("[data-for]", sel.form).forEach((l) => (l.hidden = l.dataset.for !== sel.value));
    sel.addEventListener("change", show);
    show();
  }

  // Keyboard: "/" goes to the first filter, Escape leaves a field. A "/"
  // with Ctrl, Alt or Meta is a shortcut of the browser's, not this one.
  document.addEventListener("keydown", (e) => {
    const tag = (e.target.tagName || "").toLowerCase();
    const typing = tag === "input" || tag === "textarea" || tag === "select" || e.target.isContentEditable;
    if (e.key === "/" && !typing && !e.ctrlKey && !e.altKey && !e.metaKey && !e.defaultPrevented) {
      const el = $("[data-key='/']");
      if (el) { e.preventDefault(); el.focus(); el.select(); }
    } else if (e.key === "Escape" && typing) {
      e.target.blur();
    }
  });

  // Pending work, and history screens loaded as they are scrolled to.
  async function loadPending() {
    const box = $("#pending[data-src]");
    if (!box) return;
    let r, html;
    try {
      r = await fetch(box.dataset.src, frag);
      html = await r.text();
    } catch (err) {
      // Not reached (the network, a restart of swfd): the box says so and
      // offers to try again, rather than "Loading…" for good.
      const p = document.createElement("p");
      p.className = "fault";
      p.dataset.pendingFailed = "";
      const a = document.createElement("a");
      a.href = box.dataset.src;
      a.textContent = "try again";
      a.addEventListener("click", (e) => {
        e.preventDefault();
        box.innerHTML = "<p class='muted loading'>Loading…</p>";
        loadPending();
      });
      p.append("Pending work could not be loaded — ", a);
      box.replaceChildren(p);
      return;
    }
    box.innerHTML = r.ok ? html : "<div class='fault'>" + escapeHTML(html) + "</div>";
    localTitles(box);
  }
  function escapeHTML(s) { const d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
  function wireMore(root) {
    $$("a[data-more]", root).forEach((a) => {
      const load = async (e) => {
        if (e) e.preventDefault();
        if (a.dataset.loading) return;
        a.dataset.loading = "1";
        const label = a.dataset.label || (a.dataset.label = a.textContent);
        a.textContent = "Loading…";
        const row = a.closest("tr");
        let r, html;
        try {
          r = await fetch(a.href, frag);
          html = await r.text();
        } catch (err) {
          // Not reached (the network, a restart): the link stays, to try again.
          delete a.dataset.loading;
          a.textContent = label + " — could not load, try again";
          return;
        }
        if (!r.ok) { row.innerHTML = "<td colspan='4' class='fault'>" + escapeHTML(html) + "</td>"; return; }
        const tb = document.createElement("tbody");
        tb.innerHTML = html;
        const rows = Array.from(tb.children);
        rows.forEach((x) => row.parentNode.insertBefore(x, row));
        row.remove();
        localTitles(row.parentNode || document);
        rows.forEach((x) => wireMore(x));
      };
      a.addEventListener("click", load);
      if ("IntersectionObserver" in window) {
        const io = new IntersectionObserver((es) => { if (es.some((x) => x.isIntersecting)) { io.disconnect(); load(); } }, { rootMargin: "400px" });
        io.observe(a);
      }
    });
  }

  function liveStatus(on) {
    $$("[data-live-status]").forEach((el) => (el.hidden = !on));
  }

  // Live: an execution's new events and pending work.
  function liveRun() {
    const table = $("table#events[data-live]");
    if (!table || !window.EventSource) return;
    const tbody = table.tBodies[0];
    const head = table.dataset.head === "true";
    const note = $("[data-events-note]");
    let last = parseInt(table.dataset.last || "0", 10);
    let missed = 0;
    const es = new EventSource(table.dataset.live + "?after=" + last);
    es.onopen = () => liveStatus(true);
    es.onerror = () => liveStatus(false);
    es.addEventListener("events", (m) => {
      const d = JSON.parse(m.data);
      if (d.last <= last) return;
      if (head) {
        const tb = document.createElement("tbody");
        tb.innerHTML = d.rows;
        const rows = Array.from(tb.children).filter((r) => parseInt(r.dataset.id, 10) > last);
        const none = tbody.querySelector("tr.more:only-child");
        if (none) none.remove();
        rows.forEach((r) => { r.classList.add("fresh"); tbody.insertBefore(r, tbody.firstChild); });
        localTitles(tbody);
      } else {
        missed += d.last - last;
        if (note) {
          note.hidden = false;
          note.innerHTML = missed + " new event" + (missed === 1 ? "" : "s") + (d.closed ? "; the run has closed" : "") + " — <a href='#history' data-reload>show newest</a>";
        }
        const a = note && note.querySelector("[data-reload]");
        if (a) a.onclick = (e) => { e.preventDefault(); location.href = location.pathname + "#history"; };
      }
      last = d.last;
      table.dataset.last = String(last);
      if (d.closed) {
        // Nothing more will come. The first screen is reloaded once, to
        // show how the run closed (a closed run's page has no stream); a
        // filtered or jumped view keeps its rows, with the note, and reads
        // its pending work once more.
        es.close();
        liveStatus(false);
        if (head) setTimeout(() => location.reload(), 400);
        else loadPending();
      }
    });
    es.addEventListener("pending", (m) => {
      const box = $("#pending");
      if (box) { box.innerHTML = JSON.parse(m.data).html; localTitles(box); }
    });
    es.addEventListener("resync", () => location.reload());
    es.addEventListener("signedout", () => { es.close(); location.href = "/console/login"; });
    // The auth file no longer allows this page: reloaded, it says why.
    es.addEventListener("denied", () => { es.close(); location.reload(); });
  }

  // Live: a list's executions that start and close.
  function liveList() {
    const table = $("table#executions[data-live]");
    if (!table || !window.EventSource) return;
    const t = table.dataset;
    const closedView = t.closed === "true";
    // The list's own URL (its stream's is the domain's URL and "live").
    const listURL = t.live.replace(/live$/, "executions");
    const note = $("[data-live-note]");
    let changes = 0;
    // The stream starts from where the list stood when its rows were read
    // (since): runs that started or closed before it opened have the list
    // read itself again ("stale"), as does its opening again after a cut.
    const es = new EventSource(t.live + (t.since ? "?since=" + encodeURIComponent(t.since) : ""));
    es.onopen = () => liveStatus(true);
    es.onerror = () => liveStatus(false);
    const matches = (r) => (!t.wid || r.workflowId === t.wid) && (!t.type || r.type === t.type) &&
      (!t.version || r.version === t.version) && (!t.tag || (r.tags || []).includes(t.tag)) &&
      (!t.close || r.status === t.close);
    const tell = (n) => {
      changes += n;
      if (!note) return;
      note.hidden = false;
      note.innerHTML = changes + " change" + (changes === 1 ? "" : "s") + " since this page loaded — <a href=''>refresh</a>";
    };
    // The count above the first page follows the rows it gains and
    // loses, as the server words it (a count cut short stays as it is).
    const countEl = $("[data-count][data-n]");
    const recount = (delta) => {
      if (!countEl || t.first !== "true" || countEl.dataset.cut === "true") return;
      const n = Math.max(0, parseInt(countEl.dataset.n, 10) + delta);
      countEl.dataset.n = String(n);
      countEl.textContent = n.toLocaleString("en-US") + " " + (closedView ? "closed" : "open") +
        " execution" + (n === 1 ? "" : "s") + (countEl.dataset.match === "true" ? (n === 1 ? " matches" : " match") : "");
    };
    const cell = (text, cls) => { const td = document.createElement("td"); if (cls) td.className = cls; td.textContent = text; return td; };
    // The rows that arrive while the list is read again (stale), applied
    // once it is: the read may have been made before their commits.
    let held = null;
    // Where the rows and count shown were read: from (the domain's
    // position before the read) to upto (after it). Each row the stream
    // sends has the position of its commit: one at or before from is in
    // the read already (its run, counted once, is not counted again); one
    // up to upto may be, and has the list read again to be sure; one after
    // it came after the read. A position is the server's random tag and a
    // count ("TAG.N"); one of another tag (another process) tells nothing.
    const place = (s) => {
      const i = (s || "").lastIndexOf(".");
      return i > 0 ? { tag: s.slice(0, i), n: Number(s.slice(i + 1)) } : null;
    };
    let from = place(t.since), upto = place(t.upto);
    const inRead = (pos) => {
      const p = place(pos);
      if (!p || !from || p.tag !== from.tag) return "no";
      if (p.n <= from.n) return "yes";
      return upto && p.tag === upto.tag && p.n <= upto.n ? "maybe" : "no";
    };
    const row = (m) => {
      if (held) { held.push(m); return; }
      const r = JSON.parse(m.data);
      const seen = inRead(r.pos);
      if (seen === "yes") return;
      const tbody = table.tBodies[0];
      const existing = tbody.querySelector("tr[data-run='" + CSS.escape(r.runId) + "']");
      if (seen === "maybe" && t.first === "true" && (existing || matches(r))) readSoon();
      // An open run shown here that closes leaves, by its run id, whatever
      // the filter.
      if (!closedView && r.status !== "OPEN") {
        if (existing) { existing.classList.add("gone"); existing.remove(); }
        if (existing || matches(r)) recount(-1);
        return;
      }
      if (!matches(r)) return;
      if (closedView && r.status === "OPEN") return;
      // A row shown already is as the list would show it (a run's row
      // read again after a gap in the news).
      if (existing) return;
      if (t.first !== "true") { tell(1); return; }
      const tr = document.createElement("tr");
      tr.className = "x fresh";
      tr.dataset.run = r.runId;
      const a = document.createElement("a"); a.href = r.url; a.textContent = vis(r.workflowId); a.title = vis(r.workflowId);
      const wid = document.createElement("td"); wid.className = "wid"; wid.appendChild(a); tr.appendChild(wid);
      const rid = document.createElement("td"); rid.className = "rid"; const c = document.createElement("code"); c.textContent = r.runId; c.title = r.runId; rid.appendChild(c); tr.appendChild(rid);
      const typ = cell(vis(r.type) + " "); const ver = document.createElement("span"); ver.className = "muted"; ver.textContent = vis(r.version); typ.appendChild(ver); tr.appendChild(typ);
      const st = document.createElement("td"); const b = document.createElement("span"); b.className = "badge s-" + r.status; b.textContent = r.status; st.appendChild(b); tr.appendChild(st);
      // Times as the server writes them, their tooltip the local time.
      const when = (text, iso) => {
        const td = document.createElement("td");
        if (!iso) { td.textContent = text || ""; return td; }
        const tm = document.createElement("time"); tm.dateTime = iso; tm.textContent = text; td.appendChild(tm);
        return td;
      };
      tr.appendChild(when(r.start, r.startIso));
      if (closedView) tr.appendChild(when(r.close, r.closeIso));
      tr.appendChild(cell(r.duration || ""));
      // Each tag apart, a link to its filter, as the server's rows show
      // them: joined by spaces, tags "a b" and "c" would read as "a", "b c".
      const tags = cell("");
      tags.className = "tags";
      (r.tags || []).forEach((g) => {
        const l = document.createElement("a"); l.className = "tag"; l.textContent = vis(g); l.title = vis(g);
        l.href = listURL + "?tag=" + encodeURIComponent(g) + (closedView ? "&status=closed" : "");
        tags.append(l, " ");
      });
      tr.appendChild(tags);
      const none = tbody.querySelector("tr.none"); if (none) none.remove();
      tbody.insertBefore(tr, tbody.firstChild);
      localTitles(tr);
      recount(1);
      while (tbody.rows.length > 1000) tbody.deleteRow(tbody.rows.length - 1);
    };
    es.addEventListener("row", row);
    // The list may have missed runs that started or closed: its stream was
    // not open (before it first opened, while it was cut), or the server's
    // node missed them on another node (its news of them was lost). The
    // list is read again, as a reload would read it, and its rows, count
    // and pages put in place of the old, leaving the filters' fields and
    // the scroll as they are. One read at a time: asked again meanwhile, it
    // reads once more after, a second after the last began at the
    // soonest. Should it fail, the note offers a refresh.
    let lastRead = 0, soon = null;
    const reread = () => {
      if (held) { held.again = true; return; }
      if (soon) { clearTimeout(soon); soon = null; }
      lastRead = Date.now();
      held = [];
      fetch(location.href, { credentials: "same-origin", cache: "no-store" })
        .then((resp) => (resp.ok ? resp.text() : Promise.reject(new Error(String(resp.status)))))
        .then((html) => {
          const doc = new DOMParser().parseFromString(html, "text/html");
          const fresh = doc.querySelector("table#executions tbody");
          if (!fresh) throw new Error("no list");
          table.replaceChild(document.adoptNode(fresh), table.tBodies[0]);
          const read = doc.querySelector("table#executions").dataset;
          from = place(read.since);
          upto = place(read.upto);
          localTitles(table);
          const count = $("[data-count]"), newCount = doc.querySelector("[data-count]");
          if (count && newCount) {
            count.textContent = newCount.textContent;
            ["n", "cut", "match"].forEach((k) => {
              if (k in newCount.dataset) count.dataset[k] = newCount.dataset[k]; else delete count.dataset[k];
            });
          }
          const pager = $(".pager"), newPager = doc.querySelector(".pager");
          if (pager && newPager) {
            $$("a", pager).forEach((a) => a.remove());
            $$("a", newPager).forEach((a) => pager.insertBefore(document.adoptNode(a), note));
          }
          changes = 0;
          if (note) note.hidden = true;
        })
        .catch(() => tell(1))
        .finally(() => {
          const q = held;
          held = null;
          q.forEach(row);
          if (q.again) readSoon();
        });
    };
    es.addEventListener("stale", reread);
    // More changes than the stream sends one by one (many: the rows past a
    // write's twenty; remote: runs another node changed that could not be
    // read; resync: the server dropped the page's queue) are a read of the
    // list too, at most one a second however many come. A page that is
    // not the first (a later page, oldest first, a time range), which shows
    // new runs only as their count, counts them, as it would have counted
    // their rows; one whose queue was dropped, whose count is lost, is read
    // again.
    const readSoon = () => {
      if (held) { held.again = true; return; }
      if (!soon) soon = setTimeout(reread, Math.max(0, lastRead + 1000 - Date.now()));
    };
    es.addEventListener("many", (m) => (t.first === "true" ? readSoon() : tell(JSON.parse(m.data).count)));
    es.addEventListener("remote", () => (t.first === "true" ? readSoon() : tell(1)));
    es.addEventListener("resync", readSoon);
    es.addEventListener("signedout", () => { es.close(); location.href = "/console/login"; });
    // The auth file no longer allows this page: reloaded, it says why.
    es.addEventListener("denied", () => { es.close(); location.reload(); });
  }

  document.addEventListener("DOMContentLoaded", () => {
    localTitles(document);
    $$("form[data-cli-form]").forEach(cliForm);
    wireCopy(document);
    wireConfirm();
    wireOnce();
    wireBatch();
    wireMore(document);
    loadPending();
    liveRun();
    liveList();
    // A narrow window scrolls the domain's tabs: the current one in view.
    const tab = $(".tabs a[aria-current]");
    if (tab) {
      const over = tab.getBoundingClientRect().right - tab.parentElement.getBoundingClientRect().right;
      if (over > 0) tab.parentElement.scrollLeft += over + 8;
    }
    // A link to a place in the page shows it below the bar at the top,
    // however high the bar is (the stylesheet assumes its usual height).
    const bar = $("header.top");
    const pad = () => { if (bar) document.documentElement.style.scrollPaddingTop = Math.ceil(bar.getBoundingClientRect().height + 12) + "px"; };
    pad();
    window.addEventListener("resize", pad);
    const mark = $("tr.mark");
    if (mark) mark.scrollIntoView({ block: "center" });
  });
})();
