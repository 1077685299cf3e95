"""The browser app's pages, one router per area: signing in (account), my work and notices (work),
a case and its follow-up (cases), starting a case and recording a step (record), every open case
(board), timeliness (reports), the staff directory (staff)."""
