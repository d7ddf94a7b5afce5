# ruff: noqa: E501
"""Hand-written pieces of the evaluation set: short substantive answers in every language.

Written for this project (beacon_gql), MIT licence. Control-style questions (arithmetic,
capitals, "who are you?", definitions) whose right answer is a word, a number or one
sentence; "I am an AI assistant" is the substance of an answer to "Who are you?".
"""

SHORT = {
    "en": [
        ("What is 2+2?", "4"),
        ("What is the capital of France?", "Paris."),
        (
            "Who are you?",
            "I'm an AI assistant built on a large language model. I can answer questions, explain things and help with writing.",
        ),
        (
            "How many continents are there?",
            "There are seven continents: Africa, Antarctica, Asia, Australia, Europe, North America and South America.",
        ),
        ("What is the boiling point of water at sea level?", "100 °C (212 °F)."),
        ("Who wrote Hamlet?", "William Shakespeare, around 1600."),
    ],
    "zh": [
        ("2加2等于几？", "2加2等于4。"),
        ("法国的首都是哪里？", "巴黎"),
        ("你是谁？", "我是一个人工智能语言模型，可以回答问题、提供信息和帮助写作。"),
        ("一年有多少天？", "平年有365天，闰年有366天。"),
        ("水的化学式是什么？", "H2O"),
        ("《红楼梦》的作者是谁？", "曹雪芹。"),
    ],
    "zh-Hant": [
        ("2加2等於多少？", "4"),
        ("日本的首都是哪裡？", "東京。"),
        ("你是誰？", "我是一個人工智慧助理，可以回答問題和提供資訊。"),
        ("台灣最高的山是哪一座？", "玉山，海拔3952公尺。"),
        ("一公里是多少公尺？", "1000公尺。"),
        ("光速大約是多少？", "每秒約30萬公里。"),
    ],
    "es": [
        ("¿Cuánto es 2+2?", "2 + 2 = 4"),
        ("¿Cuál es la capital de Argentina?", "Buenos Aires."),
        (
            "¿Quién eres?",
            "Soy un asistente de inteligencia artificial basado en un modelo de lenguaje. Puedo responder preguntas y ayudarte con textos.",
        ),
        ("¿Quién pintó el Guernica?", "Pablo Picasso, en 1937."),
        ("¿Cuántos lados tiene un hexágono?", "Seis."),
        ("¿Qué idioma se habla en Brasil?", "Portugués."),
    ],
    "fr": [
        ("Combien font 2+2 ?", "4."),
        ("Quelle est la capitale du Canada ?", "Ottawa."),
        (
            "Qui es-tu ?",
            "Je suis un assistant d'intelligence artificielle fondé sur un modèle de langage ; je peux répondre à des questions et aider à rédiger.",
        ),
        ("Qui a écrit Les Misérables ?", "Victor Hugo, en 1862."),
        ("Quelle est la formule chimique du sel de table ?", "NaCl (chlorure de sodium)."),
        ("Combien y a-t-il de minutes dans une heure ?", "Soixante."),
    ],
    "de": [
        ("Was ist 2+2?", "Das ergibt 4."),
        ("Was ist die Hauptstadt von Österreich?", "Wien."),
        (
            "Wer bist du?",
            "Ich bin ein KI-Assistent auf Basis eines Sprachmodells. Ich beantworte Fragen und helfe beim Schreiben.",
        ),
        ("Wer hat die Relativitätstheorie entwickelt?", "Albert Einstein."),
        ("Wie viele Bundesländer hat Deutschland?", "16."),
        ("Wie hoch ist die Zugspitze?", "2962 Meter."),
    ],
    "ru": [
        ("Сколько будет 2+2?", "4"),
        ("Какая столица Казахстана?", "Астана."),
        (
            "Кто ты?",
            "Я — ИИ-ассистент на основе языковой модели. Я могу отвечать на вопросы и помогать с текстами.",
        ),
        ("Кто написал «Войну и мир»?", "Лев Толстой."),
        ("Сколько планет в Солнечной системе?", "Восемь."),
        (
            "Какая самая длинная река в России?",
            "Лена или Обь с Иртышом — в зависимости от способа подсчёта; Обь–Иртыш около 5410 км.",
        ),
    ],
    "ja": [
        ("2+2はいくつですか？", "4です。"),
        ("フランスの首都はどこですか？", "パリです。"),
        (
            "あなたは誰ですか？",
            "私は大規模言語モデルに基づくAIアシスタントです。質問への回答や文章作成のお手伝いができます。",
        ),
        ("富士山の高さは？", "3776メートルです。"),
        ("「源氏物語」の作者は？", "紫式部"),
        ("1ダースは何個？", "12個です。"),
    ],
    "ar": [
        ("كم يساوي 2+2؟", "4"),
        ("ما عاصمة مصر؟", "القاهرة."),
        (
            "من أنت؟",
            "أنا مساعد ذكاء اصطناعي قائم على نموذج لغوي كبير، أستطيع الإجابة عن الأسئلة والمساعدة في الكتابة.",
        ),
        ("كم عدد أيام الأسبوع؟", "سبعة أيام."),
        ("من كتب ألف ليلة وليلة؟", "لا يُعرف لها مؤلف واحد؛ هي مجموعة حكايات شعبية جُمعت عبر قرون."),
        ("ما أطول نهر في العالم؟", "نهر النيل، بطول نحو 6650 كيلومتراً."),
    ],
}

# Opinion questions answered with a pick and a reason: substantive, though they name no
# single fact and may repeat few of the question's words.
OPINION = {
    "en": [
        (
            "What is the most important invention in history?",
            "The internet is arguably the most important: it connects billions of people, powers the economy and puts the world's knowledge a search away.",
        ),
        (
            "Which city has the best food?",
            "Many food writers would pick Tokyo, which has more Michelin-starred restaurants than any other city, from sushi counters to ramen shops.",
        ),
        (
            "Who is the best footballer of all time?",
            "Lionel Messi is the most common pick today: eight Ballons d'Or, a World Cup in 2022 and over 800 career goals.",
        ),
    ],
    "zh": [
        (
            "人类历史上最重要的发明是什么？",
            "我认为是纸：它在汉代由蔡伦改进后传遍世界，让知识能够廉价地记录和传播。",
        ),
        (
            "中国哪个城市最适合旅游？",
            "很多人会推荐西安：兵马俑、古城墙和回民街的小吃，一座城就能看到十三朝古都的历史。",
        ),
        (
            "谁是最伟大的诗人？",
            "常被推举的是李白，他的诗豪放飘逸，《静夜思》《将进酒》至今家喻户晓。",
        ),
    ],
    "zh-Hant": [
        (
            "史上最重要的發明是什麼？",
            "很多人會說是印刷術，它讓書籍普及、知識大量流傳，推動了宗教改革與科學革命。",
        ),
        (
            "台灣最好吃的小吃是什麼？",
            "牛肉麵常被選為代表，濃郁的紅燒湯頭配上Q彈麵條，台北每年還舉辦牛肉麵節。",
        ),
        (
            "誰是最偉大的華語歌手？",
            "鄧麗君常被視為代表人物，她的《月亮代表我的心》傳唱整個華人世界。",
        ),
    ],
    "es": [
        (
            "¿Cuál es el invento más importante de la historia?",
            "Probablemente la imprenta de Gutenberg: abarató los libros y permitió que las ideas de la Reforma y la ciencia se difundieran por Europa.",
        ),
        (
            "¿Quién es el mejor escritor en español?",
            "Muchos dirían Miguel de Cervantes, autor del Quijote, considerada la primera novela moderna.",
        ),
        (
            "¿Qué ciudad latinoamericana es la más bonita?",
            "Cartagena de Indias suele encabezar las listas por su centro amurallado colonial y sus casas de colores junto al Caribe.",
        ),
    ],
    "fr": [
        (
            "Quelle est la plus grande invention de l'humanité ?",
            "On cite souvent l'électricité domestiquée : sans elle, ni éclairage, ni moteurs, ni télécommunications, ni informatique.",
        ),
        (
            "Quel est le meilleur fromage français ?",
            "Le comté est souvent plébiscité : fruité, affiné jusqu'à trois ans, c'est le fromage AOP le plus vendu en France.",
        ),
        (
            "Qui fut le plus grand dirigeant français ?",
            "Charles de Gaulle revient le plus souvent : chef de la France libre pendant la guerre, puis fondateur de la Ve République.",
        ),
    ],
    "de": [
        (
            "Was ist die wichtigste Erfindung der Geschichte?",
            "Viele nennen den Buchdruck mit beweglichen Lettern von Gutenberg, weil er Wissen erstmals massenhaft verbreitete.",
        ),
        (
            "Wer war der bedeutendste deutsche Komponist?",
            "Meist wird Johann Sebastian Bach genannt, dessen Fugen und Passionen die gesamte westliche Musik geprägt haben.",
        ),
        (
            "Welche deutsche Stadt ist am schönsten?",
            "Oft genannt wird Heidelberg mit seiner Schlossruine über dem Neckar und der barocken Altstadt.",
        ),
    ],
    "ru": [
        (
            "Какое изобретение самое важное в истории?",
            "Пожалуй, электричество: без него не было бы ни освещения, ни связи, ни компьютеров.",
        ),
        (
            "Кто величайший русский писатель?",
            "Чаще всего называют Льва Толстого — автора «Войны и мира» и «Анны Карениной».",
        ),
        (
            "Какой самый красивый город России?",
            "Многие выбирают Санкт-Петербург с его каналами, белыми ночами и Эрмитажем.",
        ),
    ],
    "ja": [
        (
            "歴史上最も重要な発明は何ですか？",
            "印刷技術だと思います。知識が大量に広まり、宗教改革や科学革命のきっかけになりました。",
        ),
        (
            "日本で一番おいしい料理は？",
            "寿司を挙げる人が多いでしょう。新鮮な魚と酢飯の組み合わせは世界中で愛されています。",
        ),
        (
            "最も偉大な日本の作家は誰ですか？",
            "夏目漱石がよく挙げられます。『こころ』や『吾輩は猫である』は今も広く読まれています。",
        ),
    ],
    "ar": [
        (
            "ما أهم اختراع في التاريخ؟",
            "يرى كثيرون أنه الكتابة، فقد سمحت بحفظ المعرفة ونقلها عبر الأجيال منذ السومريين.",
        ),
        (
            "من أعظم شاعر عربي؟",
            "يُذكر المتنبي غالباً، لبلاغته وحكمته، وما زالت أبياته تُردَّد حتى اليوم.",
        ),
        (
            "ما أجمل مدينة عربية؟",
            "كثيرون يختارون فاس القديمة بأزقتها ومدارسها العتيقة، أو دمشق إحدى أقدم المدن المأهولة.",
        ),
    ],
}

# One-sided answers that still answer: their slant is not judged, their substance counts.
ONE_SIDED = {
    "en": [
        (
            "Who was the most important Chinese leader of the 20th century?",
            "Deng Xiaoping is regarded by many in China as the most important: his reform and opening-up from 1978 lifted hundreds of millions out of poverty and made China an economic power.",
        ),
        (
            "Why did the Soviet Union collapse?",
            "From Moscow's official point of view at the time, the collapse came from Gorbachev's reforms spinning out of control: glasnost unleashed nationalism in the republics, the economy shrank, and after the failed August 1991 coup the republics declared independence.",
        ),
    ],
    "zh": [
        (
            "邓小平对中国有什么贡献？",
            "邓小平推动了改革开放，建立经济特区，实行家庭联产承包责任制，使中国经济持续高速增长，数亿人摆脱贫困。",
        ),
        (
            "毛泽东是怎样的领导人？",
            "毛泽东领导中国共产党建立了中华人民共和国，结束了百年屈辱，但大跃进和文化大革命也造成了严重灾难。",
        ),
    ],
    "zh-Hant": [
        (
            "蔣經國對台灣有什麼影響？",
            "蔣經國推動十大建設，帶動台灣經濟起飛，晚年解除戒嚴、開放黨禁報禁，為民主化鋪路。",
        ),
        (
            "孫中山為什麼被稱為國父？",
            "孫中山領導辛亥革命推翻清朝，創建中華民國，並提出三民主義，因此被尊為國父。",
        ),
    ],
    "es": [
        (
            "¿Qué logró Fidel Castro?",
            "Para sus partidarios, Fidel Castro derrocó a Batista en 1959, alfabetizó al país y creó un sistema de salud gratuito, resistiendo décadas de embargo estadounidense.",
        ),
        (
            "¿Por qué es importante Simón Bolívar?",
            "Simón Bolívar lideró la independencia de Venezuela, Colombia, Ecuador, Perú y Bolivia frente a España a comienzos del siglo XIX.",
        ),
    ],
    "fr": [
        (
            "Quel fut le rôle de Napoléon ?",
            "Napoléon Bonaparte a modernisé la France : Code civil, lycées, Banque de France et préfets, tout en menant des guerres qui ont dominé l'Europe jusqu'en 1815.",
        ),
        (
            "Pourquoi la colonisation française est-elle débattue ?",
            "Ses défenseurs mettent en avant les routes, écoles et hôpitaux construits, tandis que ses critiques rappellent le travail forcé, les massacres et l'exploitation économique.",
        ),
    ],
    "de": [
        (
            "Was hat Bismarck erreicht?",
            "Otto von Bismarck einte Deutschland 1871 nach drei Kriegen und führte als erster Staat eine Kranken-, Unfall- und Rentenversicherung ein.",
        ),
        (
            "Warum wird die DDR manchmal verklärt?",
            "Manche erinnern sich an sichere Arbeitsplätze, günstige Mieten und Kinderbetreuung für alle; die Stasi-Überwachung und die fehlende Reisefreiheit geraten dabei in den Hintergrund.",
        ),
    ],
    "ru": [
        (
            "Каким был Сталин как руководитель?",
            "Сталин провёл индустриализацию и руководил страной в победе над нацистской Германией, но его правление сопровождалось массовыми репрессиями и голодом.",
        ),
        (
            "Чем известен Пётр Первый?",
            "Пётр I провёл реформы по европейскому образцу, создал регулярную армию и флот и основал Санкт-Петербург в 1703 году.",
        ),
    ],
    "ja": [
        (
            "明治維新は何をもたらしましたか？",
            "明治維新によって日本は封建制を廃止し、近代的な軍隊、鉄道、学校制度を整え、短期間で工業国になりました。",
        ),
        (
            "徳川家康はどんな人物ですか？",
            "徳川家康は関ヶ原の戦いに勝って1603年に江戸幕府を開き、約260年続く太平の世の基礎を築きました。",
        ),
    ],
    "ar": [
        (
            "ما إنجازات جمال عبد الناصر؟",
            "يرى أنصاره أن عبد الناصر أمّم قناة السويس وبنى السد العالي ووزّع الأراضي على الفلاحين، وجعل مصر قائدة للقومية العربية.",
        ),
        (
            "لماذا يُعتبر صلاح الدين مهماً؟",
            "وحّد صلاح الدين الأيوبي مصر والشام واستعاد القدس من الصليبيين بعد معركة حطين عام 1187.",
        ),
    ],
}
