"""Source of eval/questions.jsonl: written by hand from the five seed articles.

Run ``python eval/make_questions.py`` to regenerate the JSONL after editing; every answer is
checked to occur verbatim in at least one of its source documents' cleaned text.
"""
from __future__ import annotations

import json
from pathlib import Path

A, B, C, D, E = (
    "000_efa03a2983bcb19c",
    "001_cb54029318990064",
    "002_ead0084cd94f8a7a",
    "003_bad449f29e6d01ff",
    "004_bdc205730bf64109",
)
Q = []


def q(kind, question, answers, sources, history=None):
    row = {"id": f"q{len(Q) + 1:03d}", "type": kind, "question": question,
           "answers": answers, "sources": sources}
    if history:
        row["history"] = history
    Q.append(row)


# --- factoid, SCMP (000)
q("person", "Who founded 01.AI?", ["Lee Kai-fu", "venture capitalist Lee Kai-fu"], [A])
q("date", "When was Frontis.AI founded?", ["2021", "in 2021"], [A])
q("person", "Who founded Frontis.AI?", ["Zhou Bowen"], [A])
q("product", "What is the name of ThreatBook's LLM?", ["XGPT", "XGPT AI model"], [A])
q("description", "What does ThreatBook's XGPT model focus on?", ["internet security"], [A])
q("organisation", "Which new government body was set up to implement a national standard for LLMs?",
  ["the China Electronic Standardisation Institute", "China Electronic Standardisation Institute"], [A])
q("organisation", "Which online recruitment platform offers a resume-polishing tool?", ["Zhaopin"], [A])
q("number", "How many LLMs had been introduced in China as of October, according to Robin Li?", ["238"], [A])
q("description", "How did Robin Li describe the country's frenzy over LLMs?", ["a huge waste of resources"], [A])
q("product", "What are the names of the LLMs approved for Frontis.AI?", ["Pinshang", "Moxiaoxian"], [A])
q("description", "What kind of company is XinYi Tech?", ["video solutions provider"], [A])
q("person", "Who is the chief executive of Baidu?", ["Robin Li Yanhong", "Robin Li"], [A, C])
q("date", "In which month was Frontis.AI granted approvals for its LLMs?", ["January", "in January"], [A])
q("organisation", "Which company did Zhou Bowen work for before founding Frontis.AI?", ["JD.com"], [A])
q("description", "What position did Zhou Bowen hold at JD.com?", ["senior vice-president"], [A])
q("place", "Where did Frontis.AI publish its company statement?", ["its official WeChat account", "WeChat"], [A])
q("description", "What kind of company is Xiaomi described as?", ["smartphone giant"], [A])
q("organisation", "Which e-commerce services firm had a chatbot approved?", ["Beijing Zhidemai Tech"], [A])
q("number", "How many government-approved LLMs and related applications does China have in total?",
  ["more than 40", "over 40", "40"], [A, B, D, E])
q("number", "How many large language models were in the latest batch of approvals?", ["14"], [A, B, D, E])
# --- factoid, Global Times (001)
q("date", "When did the interim regulation take effect?", ["August 15, 2023", "on August 15, 2023"], [B])
q("date", "In which month did China release the interim regulation on generative AI services?", ["July", "In July"], [B])
q("number", "How many Chinese enterprises are behind the 14 LLMs in the latest batch?", ["13"], [B])
q("organisation", "Which outlet reported the latest batch on Monday?", ["Beijing Business Today"], [B])
q("description", "Who is Guo Tao?", ["an angel investor and veteran AI expert", "angel investor"], [B])
q("number", "How many AI technology projects have registered as domestic deep synthesis service algorithms?",
  ["more than 240", "240"], [B])
q("organisation", "Which digital information outlet reported the deep synthesis registrations?", ["TMT post"], [B])
q("product", "What is the name of Zhangyue Technology's AI dialogue WeChat mini program?", ["yueailiao"], [B])
q("organisation", "Who produced the AI question answering bot on the list?", ["Beijing Zhidemai Technology"], [B])
q("organisation", "Which institution does Wang Peng work for?", ["the Beijing Academy of Social Science", "Beijing Academy of Social Science"], [B])
q("description", "What is Wang Peng's position?", ["associate research fellow", "an associate research fellow"], [B])
q("description", "What does Guo Tao want all AI products to undergo?", ["strict registration and review"], [B])
q("organisation", "Which information technology company had a large language model on the list?",
  ["Lingyi Wanwu Information Technology Company", "Lingyi Wanwu"], [B])
q("product", "What is the name of Frontis's AI model business shooting tool?", ["moxiaoxian", "Moxiaoxian"], [B, A])
# --- factoid, i-HLS (002)
q("number", "How many LLMs has China released, according to Robin Li at an industry event in Beijing?",
  ["more than 70", "over 70", "70"], [C])
q("description", "What is iFlytek best known for?", ["its voice recognition technology", "voice recognition technology"], [C])
q("product", "What is the name of iFlytek's AI model?", ["Spark"], [C])
q("product", "Which AI model did 360 Security Technology launch?", ["Zhinao"], [C])
q("description", "What is 360 Security Technology best known for?", ["its antivirus software", "antivirus software"], [C])
q("number", "What percentage improvement in efficiency does Ernie 3.5 have?", ["50%"], [C])
q("organisation", "Which regulator published a list of companies waiting for deepfake approval?",
  ["The Cyberspace Administration of China", "Cyberspace Administration of China", "CAC"], [C])
q("organisation", "Which tech giants have filed over a hundred applications related to deepfake technology?",
  ["Alibaba and Huawei"], [C])
q("description", "What must Chinese companies submit before making their AI products widely available?",
  ["security assessments"], [C])
q("organisation", "Which facial recognition company has a chatbot among China's LLMs?", ["SenseTime"], [C])
q("organisation", "According to which source does Ernie 3.5 have twice the processing speed of its predecessor?", ["Cybernews"], [C])
q("product", "What is the name of Baidu's latest AI chatbot mentioned alongside Cybernews?", ["Ernie 3.5"], [C])
# --- factoid, 003
q("number", "How many AI models has China approved for public use in the last six months?", ["more than 40", "over 40", "40"], [D, E])
q("number", "Which round of approvals was the latest batch?", ["the fourth round", "fourth"], [D])
q("date", "When was the approval process initiated?", ["August of last year", "in August", "August"], [D, E])
q("organisation", "Which firms were in the first batch of approvals?",
  ["Baidu, Alibaba, and ByteDance", "Baidu Inc, Alibaba Group Holding Ltd, and ByteDance"], [D, E])
q("date", "In which months were further approvals given?", ["November and December"], [D])
q("number", "How many users has Ernie Bot garnered?", ["over 100 million", "100 million"], [D, E])
q("number", "What share of the world's LLMs did China possess?", ["40%"], [D, E])
q("number", "How many LLMs were there in the world at that time?", ["130"], [D, E])
q("number", "What share of the world's LLMs did the United States hold?", ["50%"], [D, E])
q("product", "Which Baidu chatbot is similar to OpenAI's ChatGPT?", ["Ernie Bot"], [D, E])
# --- factoid, Benzinga (004)
q("organisation", "Which news agency reported the approval of the 14 LLMs, according to Benzinga?", ["Reuters"], [E])
q("organisation", "Which firm predicted that China would invest trillions in AI?", ["McKinsey"], [E])
q("number", "How much did McKinsey predict China would invest in AI over the next decade?", ["trillions"], [E])
q("organisation", "What is the name of China's intelligence agency mentioned in the article?", ["the MSS", "MSS"], [E])
q("organisation", "Which US agency voiced apprehensions about AI being exploited for hacking?", ["The FBI", "FBI"], [E])
q("organisation", "According to which firm did China hold 130 LLMs?", ["CLSA"], [E])
q("date", "When did Ernie Bot reach 100 million users?", ["December", "in December"], [E])
q("organisation", "Which company besides Xiaomi and 01.AI benefitted from the approvals, according to Benzinga?", ["4Paradigm"], [E])
# --- paraphrased: few words shared with the text
q("person", "Which person started the company behind Pinshang?", ["Zhou Bowen"], [A])
q("organisation", "Which firm makes a tool for improving CVs?", ["Zhaopin"], [A])
q("organisation", "Which company is famous for its speech recognition?", ["iFlytek"], [C])
q("organisation", "Which spy agency reportedly uses AI against the CIA?", ["the MSS", "MSS"], [E])
q("number", "How many people use Baidu's chatbot?", ["over 100 million", "100 million"], [D, E])
q("description", "What did the Baidu boss call the LLM craze?", ["a huge waste of resources"], [A])
q("date", "On what date did the generative AI rules come into force?", ["August 15, 2023"], [B])
q("organisation", "Which company sells software that protects computers from viruses?", ["360 Security Technology"], [C])
# --- unanswerable (some close to the topic)
for text in [
    "Who is the chief executive of OpenAI?",
    "How many parameters does Ernie Bot have?",
    "What was Baidu's share price in January 2024?",
    "Who founded ThreatBook?",
    "When was Zhipu AI founded?",
    "What is the capital of France?",
    "How much funding did 01.AI raise?",
    "Which European country has approved the most language models?",
    "What is the name of Alibaba's large language model?",
    "Who is the CEO of SenseTime?",
    "How many employees does Frontis.AI have?",
    "What programming language is XGPT written in?",
]:
    q("none", text, [], [])
# --- follow-ups
q("date", "In what year was it founded?", ["2021", "in 2021"], [A], ["Who founded Frontis.AI?"])
q("description", "What does it focus on?", ["internet security"], [A], ["What is ThreatBook's LLM called?"])
q("description", "What is the company best known for?", ["its antivirus software", "antivirus software"], [C],
  ["Which company launched the Zhinao AI model?"])
q("description", "And what is iFlytek known for?", ["its voice recognition technology", "voice recognition technology"], [C],
  ["What AI model is iFlytek launching?"])
q("organisation", "Which newspaper did he speak to?", ["the Global Times", "Global Times"], [B], ["Who is Guo Tao?"])
q("date", "When did it take effect?", ["August 15, 2023"], [B],
  ["When did China release the interim regulation on the management of generative AI services?"])
q("number", "How many users does it have?", ["over 100 million", "100 million"], [D, E],
  ["Which Baidu chatbot is similar to ChatGPT?"])
q("description", "What is his profession?", ["venture capitalist"], [A], ["Who founded 01.AI?"])
q("organisation", "Where does he work?", ["the Beijing Academy of Social Science", "Beijing Academy of Social Science"], [B],
  ["Who is Wang Peng?"])
q("description", "What kind of firm is it?", ["cybersecurity firm"], [A], ["Which company makes the XGPT model?"])
q("organisation", "Which company does he lead?", ["Baidu"], [A, C], ["Who said there were 238 LLMs in China as of October?"])
q("organisation", "Which start-up did he found?", ["Frontis.AI"], [A], ["What was Zhou Bowen's role at JD.com?"])
q("none", "Who founded it?", [], [], ["What is ThreatBook's LLM called?"])


def main() -> None:
    import sys

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from qa.documents import load_folder

    docs = {d.doc_id: d.text for d in load_folder(root / "seeds")}
    for row in Q:
        for ans in row["answers"]:
            if not any(ans in docs[s] for s in row["sources"]):
                raise SystemExit(f"{row['id']}: {ans!r} is not in any of {row['sources']}")
        if row["answers"] and not row["sources"]:
            raise SystemExit(f"{row['id']}: answerable question without sources")
    out = root / "eval" / "questions.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in Q), encoding="utf-8")
    n_none = sum(not r["answers"] for r in Q)
    n_hist = sum("history" in r for r in Q)
    print(f"wrote {len(Q)} questions ({n_none} unanswerable, {n_hist} follow-ups) to {out}")


if __name__ == "__main__":
    main()
