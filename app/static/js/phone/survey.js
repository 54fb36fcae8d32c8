// An audience-paced section on the phone (issue 8): the section's questions one after another at the
// person's own speed, "Question 2 of 5", "Next question" after each answer, and a finished screen.

export function createSurvey() {
  let survey = null; // {section_id, title, questions}
  let index = 0;

  return {
    active: () => !!survey,
    title: () => (survey ? survey.title : ''),
    set(next, answeredIds) {
      const same = survey && next && survey.section_id === next.section_id;
      survey = next && Array.isArray(next.questions) && next.questions.length ? next : null;
      if (!survey) {
        index = 0;
      } else if (!same) {
        // Start at the first question this phone has not answered (after a reload, where it left off).
        const first = survey.questions.findIndex((q) => !answeredIds.has(q.id));
        index = first === -1 ? survey.questions.length : first;
      } else {
        index = Math.min(index, survey.questions.length);
      }
    },
    // The question to show, or null when every one is done (or no survey).
    current() {
      return survey && index < survey.questions.length ? survey.questions[index] : null;
    },
    finished: () => !!survey && index >= survey.questions.length,
    hasNext: () => !!survey && index < survey.questions.length,
    next() {
      if (survey && index < survey.questions.length) index += 1;
    },
    restart() {
      index = 0;
    },
    progress() {
      return survey && index < survey.questions.length
        ? `${survey.title} · Question ${index + 1} of ${survey.questions.length}` : '';
    },
  };
}
