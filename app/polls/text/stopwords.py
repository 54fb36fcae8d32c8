"""Short stopword lists, one per supported language: single-word entries that a word cloud drops
(simplemma ships none). Kept short on purpose: function words only (articles, pronouns, prepositions,
conjunctions, auxiliaries), never a word a participant might mean ("good", "help", "people").

Words are written case-folded; the cloud compares an entry's case-folded form and its lemma."""

from __future__ import annotations

_LISTS = {
    "en": """
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most my
myself no nor not now of off on once only or other our ours ourselves out over own same she should so
some such than that the their theirs them themselves then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you your
yours yourself yourselves
""",
    "cy": """
a ac am ar at beth bod byddai chi dim ddim e ei eich ein eu fe fi fy gan gyda hefyd hi hon hwn hwnnw
hyn hynny i mae mi na nad neu ni nid nhw o oedd ond os pa pan pam pwy roedd sut sy sydd ti trwy wedi
y ydy yma yn yr yw
""",
    "de": """
aber alle als also am an auch auf aus bei bin bis bist da damit dann das dass dein deine dem den der
des dich die dies diese dieser dir doch du durch ein eine einem einen einer eines er es euch euer für
hat hatte ich ihr ihre im in ist ja jede jeder kein keine man mein meine mich mir mit nach nicht noch
nun nur ob oder ohne sehr sein seine sich sie sind so über um und uns unser unter vom von vor war
waren was weil wenn wer wie wir wird zu zum zur
""",
    "es": """
a al algo como con cual de del donde el ella ellas ellos en entre era es esa ese eso esta este esto
fue ha han hay la las le les lo los me mi mis muy más mí nada ni no nos o os para pero por porque que
quien qué se sea ser si sin sobre su sus también te ti tu tus un una uno unos y ya yo él
""",
    "fr": """
à au aux avec ce ces cette dans de des du elle elles en est et eu il ils je la le les leur leurs lui
ma mais me même mes moi mon ne ni nos notre nous on ont ou où par pas pour qu que qui sa se ses si son
sont sur ta te tes toi ton tu un une vos votre vous y
""",
    "it": """
a ad al alla alle ai agli che chi ci come con da dal dalla dei del della delle di e è ed gli ha hanno
i il in io la le lei lo loro lui ma mi mia mio ne nei nel nella noi non o per più quale quando quella
quello questa questo se si sono su sua suo tra tu un una uno voi
""",
    "nl": """
aan al als bij dan dat de die dit door een en er het hij hem haar hun ik in is je jij kan maar me met
mij mijn na naar niet nog nu of om ons onze ook op over te tot u uit van voor was wat we wel wie wij
worden wordt zal ze zich zij zijn zo
""",
    "pt": """
a ao aos as até com como da das de do dos e é ela elas ele eles em entre era essa esse esta este eu
foi há isso já lhe mas me meu minha muito na nas não nem no nos o os ou para pela pelo por qual que
quem se sem ser seu sua são também te teu tu um uma você
""",
}

STOPWORDS: dict[str, frozenset[str]] = {lang: frozenset(words.split()) for lang, words in _LISTS.items()}

# The languages a session may choose: simplemma reads each, and each has a list above.
LANGUAGES: tuple[str, ...] = tuple(sorted(STOPWORDS))
