"""Reads for the home pages, one module per role: what is waiting for that person, each
item a frozen dataclass that names where the work is done. Every read goes through
`portal.access` (a manager's own stores, a shopper's own assignments).

- `activity`: the admin's stores and latest answers;
- `manager`: overdue and open cases, reports still open to dispute, award notices,
  today's figures;
- `shopper`: a mystery shopper's assignments;
- `reviewer`: the QA queue, disputes to decide, stores still to visit this month;
- `hr`: award decisions and appeals waiting, the coaching list's changes;
- `cx`: survey drafts waiting, A/B tests running, targeting rules about to end.
"""
