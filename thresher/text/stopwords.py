"""Small stop-word lists for the stop-word rule, one per default language.

A few dozen of each language's most frequent function words: enough to tell running prose
(which is full of them) from keyword lists, tables and spam (which are not), in the spirit of
Gopher's "at least two of: the, be, to, of, and, that, have, with". For zh, ja and th, written
without spaces, the entries are matched as substrings and their characters counted.
"""

from __future__ import annotations

STOP_WORDS: dict[str, frozenset[str]] = {
    k: frozenset(v.split())
    for k, v in {
        "en": "the be to of and a in that have i it for not on with he as you do at this but his "
        "by from they we her she or an will my one all would there their is are was were has",
        "es": "de la que el en y a los se del las un por con no una su para es al lo como más "
        "pero sus le ya o fue este ha",
        "fr": "de la le et les des en un une du que est pour qui dans a par plus pas au sur ne se "
        "il elle ce sont avec",
        "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als "
        "auch es an er hat aus bei sie wird",
        "ru": "и в не на я что он с как а то все она так его но ты по это из за вы от бы был у "
        "же для к мы о",
        "pt": "de a o que e do da em um para é com não uma os no se na por mais as dos como mas "
        "ao ele das foi",
        "it": "di e il la che in a per un è non una del sono si da le con i al dei della nel "
        "ha anche",
        "ar": "في من على إلى أن عن مع هذا هذه التي الذي ما لا كان قد ثم أو بين كل وقد إن "
        "وفي كما حيث ذلك بعد عند أي لم لن وهو وهي هو هي كانت التى الى",
        "ko": "이 그 저 것 수 등 및 더 또 는 은 를 을 에 의 가 도 로 한 하는 있다 있는 했다 그리고",
        "nl": "de en van het een in is dat op te zijn met voor niet die aan er ook als bij door "
        "om maar",
        "pl": "i w na z do nie się że to jest o jak a co po od za przez jego ale dla tak są",
        "vi": "của và là có được cho trong các những một không với người này đã để khi từ đến "
        "cũng như về",
        "tr": "ve bir bu da de için ile olarak daha çok gibi en ne ama olan o ki kadar sonra şu "
        "her çünkü veya ise olduğu göre kendi tarafından iki değil var yok mi",
        "id": "yang dan di ini itu dengan untuk dari dalam tidak akan pada juga ke karena ada "
        "oleh atau",
        "hi": "के का की है में और को से एक पर यह कि भी नहीं था हैं ने तो लिए कर",
        # character languages: matched as substrings
        "zh": "的 了 是 在 和 有 我 他 这 不 也 就 人 都 一 上 中 为 与 之 个 们 到 说 要 对 会",
        "ja": "の に は を た が で て と し れ さ も な い か ある いる する こと から まで",
        "th": "ที่ และ ใน ของ การ เป็น มี ได้ ไม่ จะ ว่า ให้ กับ แต่ นี้ ก็ ไป มา หรือ ความ",
    }.items()
}
